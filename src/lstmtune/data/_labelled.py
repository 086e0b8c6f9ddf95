"""Labelled sequences for classification (seed 003): texts with a class, or pre-tokenised
integer sequences with a class, read from the forms users hold and validated as series are.

- a folder per class of text files (the ``aclImdb`` layout, scikit-learn's ``load_files``):
  ``ROOT/train/pos/*.txt``, ``ROOT/train/neg/*.txt`` and optionally ``ROOT/test/...``, or
  ``ROOT/<class>/*.txt`` without a split;
- a CSV or Parquet file with a text column and a label column;
- an ``.npz`` of integer sequences (``x``: one int array per item, or a 2-D int array padded
  by the user) and labels (``y``).  Object arrays are pickles: they are never loaded; the
  error says how to convert them.

Nothing is tokenised or fitted here: vocabularies are fitted on the training part only, by
the task that uses them.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.errors import DataError

__all__ = ["LabelledSequences", "load_labelled"]

TEXT_SUFFIXES = (".txt",)
MAX_CLASSES = 1_000
FREE_TEXT = 20  # more distinct labels than this and than half the rows: free text


@dataclass(frozen=True, eq=False)
class LabelledSequences:
    """Items with a class: ``texts`` (raw text) or ``sequences`` (integer token ids), one
    ``labels`` index per item into ``classes``, and ``part`` ("train"/"test") when the source
    says which items are for testing."""

    name: str
    labels: np.ndarray  # (N,) int: index into classes
    classes: tuple[str, ...]
    texts: tuple[str, ...] | None = None
    sequences: tuple[np.ndarray, ...] | None = None
    part: np.ndarray | None = None  # (N,) "train" | "test", or None

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8", "utf-8-sig"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError(f"'{path}' is not UTF-8 text: save it as UTF-8 (e.g. iconv -t UTF-8).")


def _class_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _from_folders(root: Path) -> LabelledSequences:
    parts = [p for p in ("train", "test") if (root / p).is_dir()]
    blocks = [(part, root / part) for part in parts] or [(None, root)]
    texts, names, part_of = [], [], []
    classes: list[str] | None = None
    for part, folder in blocks:
        own = [p.name for p in _class_folders(folder)
               if any(f.suffix in TEXT_SUFFIXES for f in p.iterdir())]
        if classes is None:
            classes = own
        unknown = sorted(set(own) - set(classes))
        if unknown:
            raise DataError(f"'{folder}' has class folder(s) {unknown} that the training part "
                            f"'{blocks[0][1]}' lacks (classes {classes}): a test class must "
                            "also be in training.")
        for name in own:
            for f in sorted((folder / name).iterdir()):
                if f.suffix in TEXT_SUFFIXES and f.is_file():
                    texts.append(_read_text(f))
                    names.append(name)
                    part_of.append(part)
    if not classes:
        raise DataError(f"'{root}' holds no class folders of .txt files: use the layout "
                        "ROOT/train/<class>/*.txt (and ROOT/test/<class>/*.txt), or "
                        "ROOT/<class>/*.txt.")
    labels = np.array([classes.index(n) for n in names])
    part = np.array(part_of, dtype=object) if parts else None
    return _checked(LabelledSequences(name=root.name, labels=labels, classes=tuple(classes),
                                      texts=tuple(texts), part=part), str(root))


def _from_table(path: Path, text_col: str | None, label_col: str | None) -> LabelledSequences:
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError, OSError) as exc:
        raise DataError(f"'{path}' cannot be read as a table ({exc}).") from None
    cols = [str(c) for c in frame.columns]
    for what, col, default in (("text", text_col, "text"), ("label", label_col, "label")):
        if (col or default) not in cols:
            raise DataError(f"'{path}' has no {what} column '{col or default}' (columns: "
                            f"{', '.join(cols)}): name it with --{what}-col.")
    text, label = frame[text_col or "text"], frame[label_col or "label"]
    values = label.astype("string").str.strip()
    if values.isna().any():
        i = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise DataError(f"'{path}' row {i + 2} has no label: give every item a class.")
    classes = sorted(values.unique())
    if len(classes) > MAX_CLASSES or len(classes) > max(FREE_TEXT, len(values) // 2):
        raise DataError(f"the label column '{label.name}' of '{path}' has {len(classes)} "
                        f"distinct values for {len(values)} rows: it looks like free text, "
                        "not a class; name the label column with --label-col.")
    labels = values.map({c: k for k, c in enumerate(classes)}).to_numpy(int)
    texts = tuple("" if pd.isna(t) else str(t) for t in text)
    return _checked(LabelledSequences(name=path.stem, labels=labels, classes=tuple(classes),
                                      texts=texts), f"'{path}'")


def _from_npz(path: Path) -> LabelledSequences:
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            if not {"x", "y"} <= keys:
                raise DataError(f"'{path}' needs arrays 'x' (sequences) and 'y' (labels); it "
                                f"has {sorted(keys)}.")
            x, y = z["x"], z["y"]
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(
                f"'{path}' stores object arrays, which are pickles (keras' imdb.npz is one): "
                "lstmtune never unpickles. Convert it once, where you trust the file: "
                "x = np.load(path, allow_pickle=True)['x_train']; np.savez(out, "
                "x=np.concatenate(x), lengths=[len(s) for s in x], y=...) — or pad to a 2-D "
                "int array.") from None
        raise DataError(f"'{path}' is not a readable .npz ({exc}).") from None
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"'{path}' is not a readable .npz ({exc}).") from None
    if not np.issubdtype(x.dtype, np.integer) or not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"'{path}': 'x' and 'y' must be integer arrays (token ids and class "
                        f"indices), got {x.dtype} and {y.dtype}.")
    seqs = tuple(np.asarray(row) for row in x) if x.ndim == 2 else None
    if seqs is None:
        raise DataError(f"'{path}': 'x' must be a 2-D array (items × tokens), got shape "
                        f"{x.shape}.")
    if len(seqs) != len(y):
        raise DataError(f"'{path}': {len(seqs)} sequences but {len(y)} labels.")
    classes = tuple(str(c) for c in np.unique(y))
    labels = np.searchsorted(np.unique(y), y)
    return _checked(LabelledSequences(name=path.stem, labels=labels, classes=classes,
                                      sequences=seqs), f"'{path}'")


def _checked(data: LabelledSequences, where: str) -> LabelledSequences:
    if len(data) == 0:
        raise DataError(f"{where} holds no items: give at least two classes of items.")
    if len(data.classes) < 2:
        raise DataError(f"{where} has a single class ({data.classes[0]!r}): a classifier needs "
                        "at least two.")
    if data.texts is not None:
        empty = [i for i, t in enumerate(data.texts) if not t.strip()]
        if empty:
            raise DataError(f"{where} has {len(empty)} empty text(s) (first: item {empty[0]}): "
                            "drop them or give them text.")
    if data.part is not None:
        train = data.labels[data.part == "train"]
        missing = [data.classes[k] for k in range(len(data.classes)) if not (train == k).any()]
        if missing:
            raise DataError(f"{where}: class(es) {missing} appear only in the test part: "
                            "every class needs training items.")
    return data


def load_labelled(source: str | Path, *, text_col: str | None = None,
                  label_col: str | None = None) -> LabelledSequences:
    """Labelled items from a folder of class folders, a CSV/Parquet table (text and label
    columns, default ``text`` and ``label``) or an ``.npz`` of integer sequences."""
    path = Path(source)
    if not path.exists():
        raise DataError(f"'{path}' does not exist: give a folder of class folders, a CSV or "
                        "Parquet file, or an .npz.")
    if path.is_dir():
        return _from_folders(path)
    if path.suffix == ".npz":
        return _from_npz(path)
    if path.suffix in (".csv", ".parquet", ".txt", ".tsv"):
        return _from_table(path, text_col, label_col)
    raise DataError(f"'{path}' is neither a folder, a .csv/.parquet table nor an .npz.")
