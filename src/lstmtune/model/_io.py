"""The model directory: an :class:`Ensemble` on disk, without pickle.

```
model/
  model.json      format, configuration, model spec, fitted preprocessing, seeds, info
  params.npz      one array per weight, leading axis = members (numpy, allow_pickle=False)
  checksums.json  SHA-256 of model.json and params.npz
```

Loading checks every file against ``checksums.json`` (a changed byte is refused; it lists
model.json and params.npz, nothing else), that no JSON object names a key twice, the format
version, every entry of model.json (its type, range and length: ``entry`` and the readers
below, which the classifier's and the panel's files share; distinct seeds; the fitted
preprocessing field by field, framed as the spec and configuration say, its first origin
inside the fitting data), that the configuration builds the saved model spec, and that every
weight array has the shape that spec needs and is finite float32; each problem is one
``ModelError`` naming the file, the entry and the fix.
Saving writes a temporary folder beside the target and renames it, so an interrupted save
leaves the previous model (or nothing), never half a model; the temporary names carry the
process id, so the next run removes those of a killed save (``lstmtune._files``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from lstmtune._files import old_name, temp_dir
from lstmtune._json import dumps
from lstmtune.data import FittedPrep
from lstmtune.engine import ModelSpec, flatten_params, nest_params, param_shapes
from lstmtune.errors import DataError, LstmtuneError
from lstmtune.experiment import (
    CLASSIFY_ONLY,
    MEMORY_FRACTION,
    PANEL_ONLY,
    PARAMS,
    Config,
    ForecastTask,
    complete,
    machine_memory,
)
from lstmtune.model._classifier import (
    CLASSIFIER_FORMAT,
    Classifier,
    load_classifier,
    save_classifier,
)
from lstmtune.model._ensemble import Ensemble

if TYPE_CHECKING:
    from lstmtune.model._committee import Committee
    from lstmtune.model._panel import PanelModel

__all__ = ["save_model", "load_model", "ModelError", "FORMAT", "FORMAT_VERSION"]

FORMAT = "lstmtune-model"
FORMAT_VERSION = 1
FILES = ("model.json", "params.npz")
MAX_MEMBERS = 1_000  # as many as a study's final_repeats may be
CLASSIFIER_SPEC = ("vocab_size", "embed_dim", "masked", "bidirectional")  # 0/False: left out
SEED_RANGE = (0, 2**32 - 1)  # the engine's random keys take unsigned 32-bit seeds
# the bound of a forecaster's first origin when its info holds no n_fit: no series lstmtune
# trains on is this long (its windows alone would not fit this machine's memory)
MAX_FIRST_ORIGIN = 10**8
T = TypeVar("T")


class ModelError(DataError):
    """A model directory that is missing, tampered with, or does not match its description."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _flatten(params: dict) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, np.float32) for k, v in flatten_params(params).items()}


def save_model(ens: Ensemble, path: str | os.PathLike) -> Path:
    """Write ``ens`` as a model directory at ``path`` (replacing one saved there before);
    a :class:`Classifier` as :func:`save_classifier` writes it."""
    if isinstance(ens, Classifier):
        return save_classifier(ens, path)
    from lstmtune.model._committee import Committee, save_committee

    if isinstance(ens, Committee):
        return save_committee(ens, Path(path))
    from lstmtune.model._panel import PanelModel, save_panel_model

    if isinstance(ens, PanelModel):
        return save_panel_model(ens, path)
    path = Path(path)
    arrays = _flatten(ens.params)
    want = param_shapes(ens.spec)
    R = ens.repeats
    for name, shape in want.items():
        if arrays.get(name) is None or arrays[name].shape != (R, *shape):
            got = None if arrays.get(name) is None else arrays[name].shape
            raise ModelError(f"weights {name} have shape {got}, the model needs {(R, *shape)} "
                             "(members narrower than their program must be trimmed first).")
    # a forecaster's files leave out the classifier's and the panel's keys (all at their
    # defaults) and an unused deseasonalise, so that earlier lstmtune versions read them
    config = {k: v for k, v in ens.config.items() if k not in (*CLASSIFY_ONLY, *PANEL_ONLY)
              and not (k == "deseasonalise" and not v)}
    spec = {k: v for k, v in dataclasses.asdict(ens.spec).items()
            if k not in CLASSIFIER_SPEC or v}
    doc = {"format": FORMAT, "format_version": FORMAT_VERSION,
           "config": config, "spec": spec,
           "seeds": [int(s) for s in ens.seeds], "first_origin": ens.first_origin,
           "prep": ens.prep.to_dict(), "info": ens.info,
           "params": {name: list(a.shape) for name, a in arrays.items()}}
    return write_model_dir(path, doc, arrays)


def write_model_dir(path: Path, doc: dict[str, Any], arrays: dict[str, np.ndarray],
                    inside: Callable[[Path], Any] | None = None) -> Path:
    """``doc`` as model.json, ``arrays`` as params.npz and both files' SHA-256 in
    checksums.json, written in a temporary folder beside ``path`` and renamed into place (an
    interrupted save leaves the previous model or nothing, never half a model); ``inside``
    writes more into that folder first (a committee's model folders)."""
    tmp = temp_dir(path)
    try:
        if inside is not None:
            inside(tmp)
        (tmp / "model.json").write_text(dumps(doc, indent=1))
        with open(tmp / "params.npz", "wb") as f:
            np.savez(f, **arrays)
        sums = {name: _sha256(tmp / name) for name in FILES}
        (tmp / "checksums.json").write_text(json.dumps({"sha256": sums}, indent=1))
        old = None
        if path.exists():
            old = old_name(path)
            path.rename(old)
        tmp.rename(path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


class _DuplicateKey(ValueError):
    """A JSON object that names one key twice (``json.loads`` would keep the last)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _read_json(path: Path) -> Any:
    """The JSON of a model file, refused in one line when it is not readable, nests too
    deeply or names a key twice in one object."""
    try:
        return json.loads(path.read_text(), object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise ModelError(f"{path} names the key {shown(exc.args[0], 40)} twice in one object "
                         "(a JSON reader would silently keep the last); each key appears "
                         "once: re-export the model.") from None
    except RecursionError:
        raise ModelError(f"{path} nests too deeply to be an lstmtune model file; re-export the "
                         "model.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is not readable JSON ({said(exc)}); re-export the "
                         "model.") from None


def _verify(path: Path) -> None:
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is a file, not a folder"
        raise ModelError(f"model directory '{path}' {what}: pass the folder written by "
                         "`lstmtune tune` (e.g. lstmtune-out/shampoo/model).")
    names = (*FILES, "checksums.json")
    odd = [f for f in names if (path / f).is_symlink() or (path / f).exists()
           and not (path / f).is_file()]
    if odd:
        raise ModelError(f"model directory '{path}': {odd[0]} is not a regular file (a link, "
                         "folder or device); a model is three regular files: re-export it.")
    missing = [f for f in names if not (path / f).is_file()]
    if missing:
        raise ModelError(f"model directory '{path}' lacks {', '.join(missing)}: it is not a "
                         "complete lstmtune model; re-export it with `lstmtune tune`.")
    sums = _read_json(path / "checksums.json")
    where = f"model directory '{path}' failed its integrity check: checksums.json"
    fix = "restore the original files or export the model again."
    layout = '{"sha256": {file: digest}}, the SHA-256 of model.json and params.npz'
    if not isinstance(sums, dict):
        raise ModelError(f"{where} is {shown(sums, 40)}, not a table {layout}; {fix}")
    if "sha256" not in sums:
        raise ModelError(f"{where} lacks 'sha256' (it holds {layout}); {fix}")
    extra = sorted(set(sums) - {"sha256"})
    if extra:
        raise ModelError(f"{where} holds {shown(extra[0], 40)} beside 'sha256'; it holds only "
                         f"the SHA-256 of model.json and params.npz: {fix}")
    sums = sums["sha256"]
    if not isinstance(sums, dict):
        raise ModelError(f"{where} has 'sha256' {shown(sums, 40)}, not a table of the SHA-256 "
                         f"of model.json and params.npz; {fix}")
    extra = sorted(set(sums) - set(FILES))
    if extra:
        raise ModelError(f"{where} lists {shown(extra[0], 40)}, which is no file of a model "
                         f"(only model.json and params.npz are checked): {fix}")
    for name in FILES:
        if name not in sums:
            raise ModelError(f"{where} has no SHA-256 of {name}; {fix}")
        got = _sha256(path / name)
        if sums[name] != got:
            raise ModelError(
                f"model directory '{path}' failed its integrity check: {name} has SHA-256 "
                f"{got[:12]}…, checksums.json expects {shown(sums[name], 16)} — the "
                "file was changed after the model was saved. Restore the original files or "
                "export the model again.")


def _npz_headers(path: Path) -> dict[str, tuple[int, ...]]:
    """Each array's shape in a .npz, from the .npy headers only (nothing allocated)."""
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                with zf.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read = (np.lib.format.read_array_header_1_0 if version == (1, 0) else
                            np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read(f)
                if dtype.hasobject:
                    raise ValueError(f"{info.filename} holds Python objects")
                out[info.filename.removesuffix(".npy")] = tuple(int(n) for n in shape)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ModelError(f"{path} is not a readable weight file ({said(exc)}); re-export "
                         "the model.") from None
    return out


# -- model.json, entry by entry: the readers the three kinds of model share ----------------

def _cut(text: str, width: int) -> str:
    """``text``, cut to ``width`` characters with an ellipsis when it is longer."""
    return text if len(text) <= width else text[: width - 1] + "…"


def shown(value: Any, width: int = 60) -> str:
    """``value`` as Python writes it, cut to ``width`` characters with an ellipsis."""
    return _cut(repr(value), width)


def shown_ids(ids: list[str], k: int = 3) -> str:
    """The first ``k`` of ``ids``, each cut, with an ellipsis when there are more."""
    return ", ".join(shown(i, 30) for i in ids[:k]) + (", …" if len(ids) > k else "")


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines())


def said(exc: BaseException, width: int = 120) -> str:
    """What a library's exception says, on one line, cut to ``width`` with an ellipsis."""
    return _cut(_one_line(str(exc)), width)


def malformed(path: Path, key: str, exc: BaseException) -> ModelError:
    """The error for model.json's entry ``key``, which ``exc`` refused."""
    reason = f"it has no entry {shown(exc.args[0] if exc.args else None)}" \
        if isinstance(exc, KeyError) else _one_line(str(exc)).rstrip(". ")
    return ModelError(f"{path / 'model.json'} has a malformed '{key}' ({reason}); re-export "
                      "the model.")


_REQUIRED = object()
_REFUSED = (KeyError, TypeError, ValueError, AttributeError, OverflowError, LstmtuneError)


def entry(path: Path, doc: Mapping[str, Any], key: str, read: Callable[[Any], T], *,
          default: Any = _REQUIRED) -> T:
    """``read(doc[key])`` for model.json's entry ``key`` (``read(default)`` when it is
    missing and a default is given).  A missing entry, or a value ``read`` refuses, is one
    :class:`ModelError` naming the file, the entry, the rule, the value and the fix."""
    if key not in doc:
        if default is _REQUIRED:
            raise ModelError(f"{path / 'model.json'} lacks '{key}'; re-export the model.")
        return read(default)
    try:
        return read(doc[key])
    except ModelError:
        raise
    except _REFUSED as exc:
        raise malformed(path, key, exc) from None


def check_version(path: Path, doc: Mapping[str, Any], version: int, kind: str) -> None:
    """Refuse a model.json whose ``format_version`` is not ``version``."""
    got = doc.get("format_version")
    if type(got) is not int or got != version:
        info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
        raise ModelError(f"{path / 'model.json'} has {kind} format version {shown(got)}; this "
                         f"lstmtune reads version {version}: use the lstmtune version that "
                         f"saved it ({shown(info.get('lstmtune_version'), 20)}) or re-export "
                         "the model.")


def whole(value: Any, low: int = 0, high: int | None = None) -> int:
    """``value`` if it is a whole number in [low, high] (JSON's, not a float or a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or \
            (high is not None and value > high):
        rule = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"a whole number {rule} is needed, got {shown(value)}")
    return value


def real(value: Any, low: float = -math.inf, high: float = math.inf) -> float:
    """``value`` if it is a finite number in [low, high] (not a bool, not null)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(value) or not low <= value <= high:
        rule = " >= 0" if (low, high) == (0, math.inf) else \
            f" in [{low:g}, {high:g}]" if math.isfinite(low) and math.isfinite(high) else ""
        raise ValueError(f"a finite number{rule} is needed, got {shown(value)}")
    return float(value)


def table(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object."""
    if not isinstance(value, dict):
        raise TypeError(f"a table (JSON object) is needed, got {shown(value)}")
    return value


def names(value: Any, what: str) -> tuple[str, ...]:
    """``value`` if it is a non-empty list of unique, non-blank texts (``what``: one of
    them, for the message)."""
    if not isinstance(value, list) or not value:
        raise TypeError(f"a non-empty list of {what}s is needed, got {shown(value)}")
    seen: set[str] = set()
    for x in value:
        if not isinstance(x, str) or not x.strip():
            raise ValueError(f"every {what} is non-blank text, got {shown(x)}")
        if x in seen:
            raise ValueError(f"{what} {shown(x)} appears more than once; each is unique")
        seen.add(x)
    return tuple(value)


def seeds_of(value: Any) -> np.ndarray:
    """The members' seeds: 1 to MAX_MEMBERS distinct whole numbers the engine's random keys
    take."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_MEMBERS:
        raise TypeError(f"a list of 1 to {MAX_MEMBERS} member seeds is needed, got "
                        f"{shown(value)}")
    seen: set[int] = set()
    for s in value:
        if whole(s, *SEED_RANGE) in seen:
            raise ValueError(f"seed {s} appears more than once; each member has its own "
                             "seed")
        seen.add(s)
    return np.asarray(value, np.int64)


def config_of(value: Any) -> Config:
    """A saved configuration: known hyperparameters only, each valid."""
    if not isinstance(value, dict):
        raise TypeError(f"a table of hyperparameters is needed, got {shown(value)}")
    unknown = sorted(set(value) - set(PARAMS))
    if unknown:
        raise ValueError(f"unknown hyperparameters {shown(unknown)}")
    return complete(value)


def spec_of(value: Any) -> ModelSpec:
    """A saved model spec: known fields, each of its field's type (units: a list)."""
    d = table(value)
    fields = {f.name: f for f in dataclasses.fields(ModelSpec)}
    unknown = sorted(set(d) - set(fields))
    if unknown:
        raise ValueError(f"unknown fields {shown(unknown)}")
    units = d.get("units", [1])
    if not isinstance(units, list) or not units or \
            any(isinstance(u, bool) or not isinstance(u, int) or u < 1 for u in units):
        raise ValueError(f"units is one whole number >= 1 per layer, got {shown(units)}")
    for name, f in fields.items():
        if name in d and name != "units":
            kind = type(f.default)
            v = d[name]
            if kind is int and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise ValueError(f"{name} is a whole number >= 0, got {shown(v)}")
            if kind is not int and not isinstance(v, kind):
                raise ValueError(f"{name} is a {kind.__name__}, got {shown(v)}")
    return ModelSpec(**{**d, "units": tuple(units)})


def shapes_of(value: Any) -> dict[str, tuple[int, ...]]:
    """The weights' shapes model.json declares: name -> list of whole numbers."""
    d = table(value)
    for name, shape in d.items():
        if not isinstance(shape, list) or \
                any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in shape):
            raise ValueError(f"weight {shown(name)} has shape {shown(shape)}; a shape is a "
                             "list of whole numbers")
    return {k: tuple(v) for k, v in d.items()}


def check_spec(path: Path, spec: ModelSpec, built: ModelSpec) -> None:
    """Refuse a saved spec that is not the one its configuration builds (``built``)."""
    if spec != built:
        name = next(f.name for f in dataclasses.fields(ModelSpec)
                    if getattr(spec, f.name) != getattr(built, f.name))
        raise ModelError(f"{path / 'model.json'}: the saved model spec does not match its "
                         f"configuration ('spec' has {name} = {shown(getattr(spec, name))}, "
                         f"the configuration builds {shown(getattr(built, name))}); re-export "
                         "the model.")


def check_configured(path: Path, config: Config, configure: Callable[[Config], Config],
                     holder: str) -> None:
    """Refuse a saved configuration that is not as the task's ``configure`` leaves it (what
    ``holder``, the kind of model, trains with)."""
    try:
        done = configure(config)
    except LstmtuneError as exc:
        raise malformed(path, "config", exc) from None
    if done != config:
        key = next(k for k in config if config[k] != done[k])
        raise malformed(path, "config", ValueError(
            f"{key} = {shown(config[key])}, which {holder} holds as {key} = "
            f"{shown(done[key])}"))


def built_spec(path: Path, build: Callable[[], ModelSpec]) -> ModelSpec:
    """``build()``: the spec a saved configuration builds; a configuration that builds none
    is a malformed 'config'."""
    try:
        return build()
    except LstmtuneError as exc:
        raise malformed(path, "config", exc) from None


def read_weights(path: Path, declared: dict[str, tuple[int, ...]],
                 want: dict[str, tuple[int, ...]], what: str) -> dict[str, np.ndarray]:
    """The weight arrays of a verified model directory whose model ``what`` (its members and
    units, for the messages) needs the shapes ``want``: refused when they would take more
    than half of this machine's memory, when model.json's 'params' (``declared``) or the
    arrays' headers (read before anything is allocated) are not ``want``, or when a weight
    is not finite float32."""
    need = 4 * sum(math.prod(v) for v in want.values())
    total = machine_memory()
    if total is not None and need > MEMORY_FRACTION * total:
        raise ModelError(f"{path / 'model.json'} describes {need / 2**30:,.1f} GiB of weights, "
                         f"more than half of this machine's {total / 2**30:.0f} GiB: it was "
                         "not saved by lstmtune on a machine like this one; re-export it.")
    if declared != want:
        bad = _first_difference(declared, want)
        raise ModelError(f"{path / 'model.json'}: its 'params' shapes do not match its model "
                         f"({what}): weight {bad} is declared {shown(declared.get(bad))}, the "
                         f"model needs {want.get(bad)}; re-export the model.")
    npz = path / "params.npz"
    got = _npz_headers(npz)
    if got != want:
        bad = _first_difference(got, want)
        raise ModelError(f"{npz}: weight {bad} has shape {got.get(bad)}, the model ({what}) "
                         f"needs {want.get(bad)}; re-export the model.")
    try:
        with np.load(npz, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{npz} is not a readable weight file ({said(exc)}); re-export "
                         "the model.") from None
    for name, a in arrays.items():
        if a.dtype != np.float32:
            raise ModelError(f"{npz}: weight {name} is {a.dtype}; weights are float32: "
                             "re-export the model.")
        if not np.isfinite(a).all():
            raise ModelError(f"{npz} holds NaN/inf weights (weight {name}); re-export the "
                             "model.")
    return arrays


def _first_difference(got: dict, want: dict) -> str:
    """The first weight (in the model's order) whose shape ``got`` does not give as
    ``want``, or else the first name only one of them has."""
    return next((k for k in want if k in got and got[k] != want[k]), None) or \
        sorted(set(want) ^ set(got))[0]


def load_model(path: str | os.PathLike) -> Ensemble | Classifier | PanelModel | Committee:
    """Read a model directory written by :func:`save_model` (a classifier's: a
    :class:`Classifier`; a panel's: a :class:`PanelModel`; a study's K best configurations:
    a :class:`Committee`), refusing one that was changed or
    does not match its own description, entry by entry."""
    path = Path(path)
    _verify(path)
    doc = _read_json(path / "model.json")
    if isinstance(doc, dict) and doc.get("format") == CLASSIFIER_FORMAT:
        return load_classifier(path, doc)
    from lstmtune.model._panel import PANEL_FORMAT, load_panel_model

    if isinstance(doc, dict) and doc.get("format") == PANEL_FORMAT:
        return load_panel_model(path, doc)
    from lstmtune.model._committee import COMMITTEE_FORMAT, load_committee

    if isinstance(doc, dict) and doc.get("format") == COMMITTEE_FORMAT:
        return load_committee(path, doc)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else None
        raise ModelError(f"{path / 'model.json'} is not an lstmtune model (format "
                         f"{shown(got)}; lstmtune writes {FORMAT!r}, {CLASSIFIER_FORMAT!r}, "
                         f"{PANEL_FORMAT!r} or {COMMITTEE_FORMAT!r}): pass a folder written "
                         "by `lstmtune tune`.")
    check_version(path, doc, FORMAT_VERSION, "model")
    config = dict(entry(path, doc, "config", config_of))
    spec = entry(path, doc, "spec", spec_of)
    prep = entry(path, doc, "prep", FittedPrep.from_dict)
    seeds = entry(path, doc, "seeds", seeds_of)
    info = dict(entry(path, doc, "info", _info_of, default={}))
    declared = entry(path, doc, "params", shapes_of)
    check_spec(path, spec, built_spec(path, lambda: ForecastTask.of(config).model(
        config, n_features=prep.n_features)))
    check_framing(path, "prep", prep, spec, config)
    first_origin = entry(path, doc, "first_origin",
                         lambda v: first_origin_of(v, prep, info.get("n_fit")))
    want = {k: (len(seeds), *v) for k, v in param_shapes(spec).items()}
    arrays = read_weights(path, declared, want, f"{len(seeds)} members, {spec.units} units")
    return Ensemble(config=config, spec=spec, params=nest_params(arrays), seeds=seeds,
                    prep=prep, first_origin=first_origin, info=info)


def _info_of(value: Any) -> dict[str, Any]:
    """A forecaster's info: a table whose n_fit, when there, is a whole number >= 1."""
    d = table(value)
    if "n_fit" in d:
        try:
            whole(d["n_fit"], 1)
        except ValueError as exc:
            raise ValueError(f"n_fit, the number of points the model was fitted on: {exc}") \
                from None
    return d


def first_origin_of(value: Any, prep: FittedPrep, n_fit: int | None = None) -> int:
    """The origin of the first training window: a whole number from the first origin
    ``prep`` can frame (lags - 1 + the differencing span) to the last fitting point
    (``n_fit - 1``; ``MAX_FIRST_ORIGIN`` when the number of fitting points is unknown)."""
    low = prep.framing.lags - 1 + prep.preprocessing.span
    high = n_fit - 1 if n_fit is not None else MAX_FIRST_ORIGIN
    where = f"before the {n_fit} fitting points info.n_fit records" if n_fit is not None \
        else f"at most {MAX_FIRST_ORIGIN:,}"
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"the origin of the first training window is a whole number from "
                         f"{low} (lags - 1 + differencing span of the saved preprocessing) "
                         f"to {high} ({where}), got {shown(value)}")
    return value


def check_framing(path: Path, key: str, prep: FittedPrep, spec: ModelSpec,
                  config: Mapping[str, Any]) -> None:
    """Refuse a saved preprocessing (model.json's ``key``) that does not frame the model's
    inputs: its lags are the spec's timesteps, its horizon, strategy and origin step the
    configuration's, its level column there exactly when the model reads one."""
    fr = prep.framing
    for name, got, other, want in (
            ("lags", fr.lags, "spec.timesteps", spec.timesteps),
            ("horizon", fr.horizon, "config.horizon", config["horizon"]),
            ("multistep", fr.multistep, "config.multistep", config["multistep"]),
            ("origin_step", fr.origin_step, "config.origin_step", config["origin_step"]),
            ("level", fr.level, "config.window_norm == 'level'",
             config["window_norm"] == "level")):
        if got != want:
            raise ModelError(f"{path / 'model.json'}: {key}.framing.{name} = {shown(got)} "
                             f"disagrees with {other} = {shown(want)} (the saved preprocessing "
                             "frames the model's inputs); re-export the model.")
