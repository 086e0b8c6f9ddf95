"""Study folders under --out: one per study name, never shared (``a/b`` and ``a-b``, names
that differ only in case on a file system that ignores it), never outside --out, and no
empty folder left by a refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lstmtune.cli import main
from lstmtune.cli._tune import FOLDER_MARK, study_folder

STUDY = """
[data]
source = "shampoo"
test_size = 6
val_size = 6
[training]
epochs = 2
[search]
trials = 1
repeats = 1
final_repeats = 2
[space]
units = { int = [1, 2] }
"""


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def two_studies(tmp_path_factory):
    """``a/b`` (the default SQLite file in its folder) and then ``a-b`` (a shared storage
    file) tuned into the same --out."""
    tmp = tmp_path_factory.mktemp("names")
    (tmp / "s.toml").write_text(STUDY)
    out = tmp / "out"
    first = main(["tune", str(tmp / "s.toml"), "--out", str(out), "--study-name", "a/b",
                  "--json"])
    # the command let its database connections go: no WAL file for a later close to fold in
    assert not [p for p in out.rglob("*") if p.name.endswith(("-wal", "-shm"))]
    before = _snapshot(out)
    second = main(["tune", str(tmp / "s.toml"), "--out", str(out), "--study-name", "a-b",
                   "--storage", f"sqlite:///{tmp / 'shared.db'}", "--json"])
    return tmp, out, (first, second), before


def test_a_slash_and_a_dash_never_share_a_folder(two_studies):
    tmp, out, codes, before = two_studies
    assert codes == (0, 0)
    folders = sorted(p.name for p in out.iterdir())
    assert len(folders) == 2 and "a-b" in folders
    hashed = next(f for f in folders if f != "a-b")
    assert hashed.startswith("a-b-") and len(hashed) == len("a-b-") + 10
    for name, folder in (("a/b", hashed), ("a-b", "a-b")):
        assert (out / folder / FOLDER_MARK).read_text() == name
        info = json.loads((out / folder / "model" / "model.json").read_text())["info"]
        assert info["study"] == name
    # the second study wrote nothing in the first one's folder
    after = _snapshot(out)
    assert {k: v for k, v in after.items() if k.startswith(hashed)} == before


def test_a_name_whose_folder_holds_another_study_is_refused(two_studies, capsys):
    """A file system that ignores case maps ``Study`` and ``study`` to one folder: the mark
    in the folder tells them apart.  Simulated here by a mark that names another study."""
    tmp, out, _, _ = two_studies
    held = out / "study"
    held.mkdir()
    (held / FOLDER_MARK).write_text("Study")
    before = _snapshot(tmp)
    capsys.readouterr()
    assert main(["tune", str(tmp / "s.toml"), "--out", str(out), "--study-name",
                 "study"]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and "'Study'" in line and "--study-name" in line
    assert _snapshot(tmp) == before


def test_a_refusal_after_the_folder_is_made_leaves_no_folder(two_studies, capsys):
    """The shared storage holds ``a-b`` with units 1–2; the same name with another space is
    refused by the storage, after prepare_run made the folder: it is removed again."""
    tmp, _, _, _ = two_studies
    (tmp / "other.toml").write_text(STUDY.replace("[1, 2]", "[3, 4]"))
    before = _snapshot(tmp)
    assert main(["tune", str(tmp / "other.toml"), "--out", str(tmp / "out2"), "--study-name",
                 "a-b", "--storage", f"sqlite:///{tmp / 'shared.db'}"]) == 2
    assert "configuration" in capsys.readouterr().err
    assert not (tmp / "out2" / "a-b").exists()
    assert {k: v for k, v in _snapshot(tmp).items() if k != "shared.db"} == \
        {k: v for k, v in before.items() if k != "shared.db"}


@pytest.mark.parametrize("name, folder", [
    ("shampoo", "shampoo"), ("M1.monthly_v2", "M1.monthly_v2"),
    ("a b", "a-b-"), ("../../escape", "escape-"), ("é", "study-"), ("x" * 150, "x" * 60 + "-"),
])
def test_folder_names_are_readable_and_inside_out(tmp_path, name, folder):
    path = study_folder(str(tmp_path), name)
    assert path.parent == tmp_path
    if folder.endswith("-"):  # a made name: the readable part and 10 hex digits
        assert path.name.startswith(folder) and len(path.name) == len(folder) + 10
        int(path.name[-10:], 16)
    else:
        assert path.name == folder


def test_made_names_differ_for_different_studies(tmp_path):
    names = ["a/b", "a\\b", "a b", "a:b", "a--b", "A/B", "a/b/", "/a/b"]
    assert len({study_folder(str(tmp_path), n).name for n in names}) == len(names)


@pytest.mark.parametrize("name", ["/", "..", "../..", "-", "..."])
def test_a_name_without_a_letter_or_digit_is_refused(tmp_path, capsys, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(STUDY)
    assert main(["tune", "s.toml", "--study-name", name]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and "letter or a digit" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_a_long_name_is_not_echoed_whole(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(STUDY)
    assert main(["tune", "s.toml", "--study-name", "x" * 5000]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and len(line) < 300 and "…" in line and "5,000" in line
