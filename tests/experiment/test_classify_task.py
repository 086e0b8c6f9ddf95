"""The classification task against independent references: scikit-learn's metrics on the
engine's raw outputs, a vocabulary that never sees held-out words, bucketed programs equal
to each member's own, balanced class weights by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score

from lstmtune.data import OOV, LabelledSequences
from lstmtune.engine import ModelSpec, PopulationData, TrainSpec, train_population
from lstmtune.evaluation import best_threshold, class_metric, classification_baselines
from lstmtune.experiment import ClassificationTask, class_weights, complete, evaluate_configs

GOOD = ["great fun", "a great film", "loved it", "fun and moving", "great cast", "moving"]
BAD = ["dull", "a dull mess", "boring film", "dull and long", "a mess", "boring"]


def _items(texts, labels, name="toy"):
    return LabelledSequences(name=name, labels=np.asarray(labels), classes=("neg", "pos"),
                             texts=tuple(texts))


def _fold():
    train = _items(GOOD[:4] + BAD[:4], [1] * 4 + [0] * 4)
    held = _items(GOOD[4:] + BAD[4:] + ["zanzibar"], [1, 1, 0, 0, 1])
    return ((train, held), 5)


CFG = dict(units=4, epochs=6, batch_size=4, vocab_size=50, input_length=5, embed_dim=3,
           learning_rate=0.05)


def test_the_vocabulary_is_fitted_on_the_training_items_only():
    task = ClassificationTask()
    prep = task.prepare(_fold()[0], 5, CFG)
    words = prep.fitted["vocabulary"].words_
    assert "zanzibar" not in words and "cast" not in words  # held-out words only
    assert set(words) == {w for t in GOOD[:4] + BAD[:4] for w in t.split()}
    zanzibar = prep.eval_X[-1, :, 0]
    assert zanzibar[0] == OOV and (zanzibar[1:] == 0).all()


def test_the_search_score_is_sklearn_average_precision_of_the_raw_outputs():
    task = ClassificationTask(metric="pr_auc")
    res = evaluate_configs([_fold()], [CFG], repeats=3, task=task)[0]
    group = task.prepare_group([_fold()], [complete(CFG)])
    spec = task.model(task.configure(CFG), n_features=1)
    run = task.fit(group, spec, TrainSpec(epochs=6, batch_size=4, loss="bce"),
                   seeds=np.arange(3), hparams={"learning_rate": [0.05] * 3})
    y = np.array([1, 1, 0, 0, 1])
    for m in range(3):
        logit = run.result.predictions[m, :, 0].astype(float)
        expected = average_precision_score(y, 1 / (1 + np.exp(-logit)))
        assert res.scores[m] == pytest.approx(expected, abs=1e-9)


def test_a_member_in_a_bucketed_program_equals_its_own_program():
    """input_length 9 and 11 share a program of 12 steps (masked padding): the length-9
    member trains exactly as in a program of 9 steps of its own."""
    task = ClassificationTask()
    configs = [complete({**CFG, "input_length": L}) for L in (9, 11)]
    assert task.group_key(configs[0]) == task.group_key(configs[1])
    group = task.prepare_group([_fold()], configs)
    assert group.folds[0].X.shape[1] == 12 == task.model(configs[0], 1).timesteps
    spec = task.model(configs[0], 1)
    tspec = TrainSpec(epochs=5, batch_size=4, loss="bce")
    hp = {"learning_rate": [0.05, 0.05]}
    shared = task.fit(group, spec, tspec, seeds=[7, 7], hparams=hp, member_config=[0, 1])
    own = task.prepare(_fold()[0], 5, configs[0])  # 9 steps, no bucket
    alone = train_population(
        ModelSpec(units=(4,), timesteps=9, n_features=1, vocab_size=spec.vocab_size,
                  embed_dim=3, masked=True), tspec,
        PopulationData(own.X, own.y[:, None].astype(np.float32), np.ones(8, bool),
                       own.eval_X, own.eval_y[:, None].astype(np.float32)),
        seeds=np.array([7]), hparams={"learning_rate": [0.05]})
    np.testing.assert_allclose(shared.result.predictions[0], alone.predictions[0],
                               rtol=1e-5, atol=1e-6)


def test_balanced_class_weights_by_hand():
    w = class_weights(np.array([0, 0, 0, 1]), 2, "balanced")
    np.testing.assert_allclose(w, [4 / 6, 4 / 6, 4 / 6, 4 / 2])
    np.testing.assert_array_equal(class_weights(np.array([0, 1]), 2, "none"), [1, 1])


def test_metrics_thresholds_and_baselines_by_hand():
    y = np.array([0, 0, 1, 1, 1])
    p1 = np.array([0.1, 0.6, 0.4, 0.8, 0.9])
    prob = np.stack([1 - p1, p1], axis=1)
    # F1 is best at threshold 0.4 (all three positives, one false positive): 6/7
    assert best_threshold(y, prob) == pytest.approx(0.4)
    assert class_metric("f1", y, prob, 0.4) == pytest.approx(f1_score(y, p1 >= 0.4))
    assert class_metric("accuracy", y, prob) == pytest.approx(3 / 5)
    train = _items(["a"] * 3 + ["b"] * 5, [0] * 3 + [1] * 5)
    test = _items(["a", "b", "b", "a"], [0, 1, 1, 0])
    base = classification_baselines(train, None, test)
    assert base["majority"]["pr_auc"] == pytest.approx(0.5)  # the positive rate of test
    assert base["majority"]["accuracy"] == pytest.approx(0.5)
    assert base["bag_of_words"]["accuracy"] == 1.0  # one word decides the class


def test_several_classes_take_a_softmax_head_and_macro_scores():
    task = ClassificationTask(n_classes=3, metric="f1")
    assert task.model(complete(CFG), 1).horizon == 3
    assert task.configure(CFG)["loss"] == "cce" and task.direction == "maximize"
    assert ClassificationTask(metric="log_loss").direction == "minimize"


def test_token_ids_drop_their_own_padding_before_the_cut():
    from lstmtune.experiment import encode_items

    items = LabelledSequences(name="ids", labels=np.array([0, 1]), classes=("a", "b"),
                              sequences=(np.array([0, 0, 0, 5, 6, 7]),
                                         np.array([5, 6, 7, 9, 0, 0])))
    first = encode_items(items, {**CFG, "input_length": 2, "vocab_size": 6}, {})[:, :, 0]
    last = encode_items(items, {**CFG, "input_length": 2, "keep": "last",
                                "vocab_size": 6}, {})[:, :, 0]
    np.testing.assert_array_equal(first, [[5, 6], [5, 6]])
    np.testing.assert_array_equal(last, [[6, 7], [7, 1]])  # 9 >= vocab_size + 2: out of vocab
