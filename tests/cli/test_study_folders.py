"""Study folders, the cases ``test_study_names.py`` does not run a study for: a name equal
to another study's made folder name, a folder of an earlier version (no mark) reused, and
default names from file names that are not printable text."""

from __future__ import annotations

import pytest

from lstmtune.cli._tune import FOLDER_MARK, claim_folder, study_folder, study_name_of
from lstmtune.errors import ConfigError


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_name_spelling_another_studys_made_folder_is_refused(tmp_path):
    made = study_folder(str(tmp_path), "a/b")
    made.mkdir()
    claim_folder(made, "a/b")
    assert (made / FOLDER_MARK).read_text() == "a/b"
    before = _files(tmp_path)
    with pytest.raises(ConfigError) as e:
        study_folder(str(tmp_path), made.name)  # 'a-b-<digest>', a plain file name
    assert "'a/b'" in str(e.value) and "--study-name" in str(e.value) and \
        "--out" in str(e.value)
    assert _files(tmp_path) == before


def test_a_folder_without_a_mark_is_reused_and_then_marked(tmp_path):
    old = tmp_path / "shampoo"  # as an earlier version left it: no mark
    old.mkdir()
    (old / "study.db").write_bytes(b"")
    assert study_folder(str(tmp_path), "shampoo") == old
    claim_folder(old, "shampoo")
    assert (old / FOLDER_MARK).read_text() == "shampoo"
    claim_folder(old, "shampoo")  # a second worker: the mark stays as it is
    assert study_folder(str(tmp_path), "shampoo") == old


@pytest.mark.parametrize("source, name", [
    ("shampoo", "shampoo"), ("runs/m1.toml", "m1"), ("x\ty.csv", "x\\ty"),
    ("a\udcff.csv", "a\\xff"), ("\u00e9t\u00e9.csv", "\u00e9t\u00e9"),
])
def test_default_names_are_printable_text(source, name):
    assert study_name_of(source) == name and study_name_of(source).isprintable()


def test_a_file_name_that_is_no_utf8_gets_a_folder_and_a_mark(tmp_path):
    # before: UnicodeEncodeError from the name's hash (the stem held a lone surrogate)
    name = study_name_of("a\udcff.csv")
    folder = study_folder(str(tmp_path / "out"), name)
    assert folder.parent == tmp_path / "out" and folder.name.startswith("a-xff-")
    assert _files(tmp_path) == []
    folder.mkdir(parents=True)
    claim_folder(folder, name)
    assert (folder / FOLDER_MARK).read_text() == "a\\xff"
