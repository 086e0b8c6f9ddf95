"""A classifier's model directory: saved and loaded without pickle, its vocabulary with it,
predicting what it predicted before (a bidirectional one included); a changed file refused."""

from __future__ import annotations

import numpy as np
import pytest

from lstmtune.data import LabelledSequences
from lstmtune.experiment import ClassificationTask
from lstmtune.model import ModelError, fit_classifier, load_model, save_model

POS = ["great fun", "a great film", "loved it", "fun and moving", "great cast", "moving"]
NEG = ["dull", "a dull mess", "boring film", "dull and long", "a mess", "boring"]


def _items(texts, labels):
    return LabelledSequences(name="toy", labels=np.asarray(labels), classes=("neg", "pos"),
                             texts=tuple(texts))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_saved_classifier_predicts_as_before(tmp_path, bidirectional):
    train = _items(POS[:4] + NEG[:4], [1] * 4 + [0] * 4)
    val = _items(POS[4:] + NEG[4:], [1, 1, 0, 0])
    config = dict(units=3, epochs=4, batch_size=4, vocab_size=20, input_length=4,
                  embed_dim=3, learning_rate=0.05, bidirectional=bidirectional)
    clf, _ = fit_classifier(train, val, config, ClassificationTask(), repeats=2)
    new = _items(["great moving film", "a dull boring mess", "unseen words only"], [-1] * 3)
    path = save_model(clf, tmp_path / "model")
    back = load_model(path)
    assert back.classes == ("neg", "pos") and back.threshold == pytest.approx(clf.threshold)
    assert back.fitted["vocabulary"].words_ == clf.fitted["vocabulary"].words_
    np.testing.assert_allclose(back.predict_proba(new), clf.predict_proba(new), rtol=1e-6)
    assert list(back.predict(new)) == list(clf.predict(new))
    (path / "model.json").write_text((path / "model.json").read_text().replace("great", "grand"))
    with pytest.raises(ModelError, match="failed its integrity check"):
        load_model(path)
