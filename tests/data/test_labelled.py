"""Labelled sequences (seed 003's data): the three forms users hold, read and refused."""

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import load_labelled
from lstmtune.errors import DataError


def _imdb_like(root, test=True):
    for part in ("train", "test") if test else ("train",):
        for label, texts in (("pos", ["a fine film", "loved it<br />really"]),
                             ("neg", ["dull", "a waste of time"])):
            (root / part / label).mkdir(parents=True)
            for i, t in enumerate(texts):
                (root / part / label / f"{i}_7.txt").write_text(t, encoding="utf-8")
    return root


def test_a_folder_per_class_with_train_and_test(tmp_path):
    d = load_labelled(_imdb_like(tmp_path / "aclImdb"))
    assert d.classes == ("neg", "pos") and len(d) == 8
    assert list(d.part) == ["train"] * 4 + ["test"] * 4
    # sorted class folders, sorted files: neg 0, 1 then pos 0, 1 in each part
    assert d.texts[:4] == ("dull", "a waste of time", "a fine film", "loved it<br />really")
    assert list(d.labels) == [0, 0, 1, 1] * 2


def test_a_table_with_text_and_label_columns(tmp_path):
    pd.DataFrame({"review": ["good", "bad", "great", "awful"],
                  "sentiment": ["pos", "neg", "pos", "neg"]}).to_csv(tmp_path / "r.csv",
                                                                      index=False)
    d = load_labelled(tmp_path / "r.csv", text_col="review", label_col="sentiment")
    assert d.classes == ("neg", "pos") and list(d.labels) == [1, 0, 1, 0]
    assert d.texts == ("good", "bad", "great", "awful") and d.part is None


def test_integer_sequences_from_an_npz(tmp_path):
    np.savez(tmp_path / "s.npz", x=np.array([[1, 2, 0], [3, 0, 0], [4, 5, 6]]),
             y=np.array([1, 0, 1]))
    d = load_labelled(tmp_path / "s.npz")
    assert d.classes == ("0", "1") and list(d.labels) == [1, 0, 1]
    assert [list(s) for s in d.sequences] == [[1, 2, 0], [3, 0, 0], [4, 5, 6]]


def test_a_pickled_npz_is_never_unpickled(tmp_path):
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = [1, 2, 3], [4]
    np.savez(tmp_path / "imdb.npz", x=ragged, y=np.array([0, 1]))
    with pytest.raises(DataError, match="object arrays, which are pickles.*never unpickles"):
        load_labelled(tmp_path / "imdb.npz")


@pytest.mark.parametrize("frame, match", [
    ({"text": ["a", "b"], "label": ["x", "x"]}, "a single class"),
    ({"text": ["a", " ", "c", "d"], "label": ["x", "y", "x", "y"]}, "1 empty text"),
    ({"text": [f"t{i}" for i in range(40)], "label": [f"free text {i}" for i in range(40)]},
     "looks like free text"),
    ({"text": ["a", "b", "c"], "label": ["x", None, "y"]}, "row 3 has no label"),
    ({"words": ["a", "b"], "label": ["x", "y"]}, "no text column 'text'"),
])
def test_bad_tables_are_refused_in_one_line(tmp_path, frame, match):
    pd.DataFrame(frame).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match=match):
        load_labelled(tmp_path / "t.csv")


def test_a_test_class_unknown_to_training_is_refused(tmp_path):
    root = _imdb_like(tmp_path / "d")
    (root / "test" / "neutral").mkdir()
    (root / "test" / "neutral" / "0.txt").write_text("meh")
    with pytest.raises(DataError, match=r"class folder\(s\) \['neutral'\].*lacks"):
        load_labelled(root)


def test_text_that_is_not_utf8_is_refused(tmp_path):
    root = _imdb_like(tmp_path / "d", test=False)
    (root / "train" / "pos" / "9.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(DataError, match="is not UTF-8 text"):
        load_labelled(root)


def test_a_small_table_with_as_many_classes_as_rows_is_not_free_text(tmp_path):
    pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", "y", "z"]}).to_csv(
        tmp_path / "t.csv", index=False)
    assert load_labelled(tmp_path / "t.csv").classes == ("x", "y", "z")
