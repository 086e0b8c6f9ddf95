"""The model directory: an :class:`Ensemble` on disk, without pickle.

```
model/
  model.json      format, configuration, model spec, fitted preprocessing, seeds, info
  params.npz      one array per weight, leading axis = members (numpy, allow_pickle=False)
  checksums.json  SHA-256 of model.json and params.npz
```

Loading checks every file against ``checksums.json`` (a changed byte is refused), the format
version, that the configuration builds the saved model spec, and that every weight array has
the shape that spec needs; each problem is one ``ModelError`` naming the file and the fix.
Saving writes a temporary folder beside the target and renames it, so an interrupted save
leaves the previous model (or nothing), never half a model; the temporary names carry the
process id, so the next run removes those of a killed save (``lstmtune._files``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

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

__all__ = ["save_model", "load_model", "ModelError", "FORMAT", "FORMAT_VERSION"]

FORMAT = "lstmtune-model"
FORMAT_VERSION = 1
FILES = ("model.json", "params.npz")
MAX_MEMBERS = 1_000  # as many as a study's final_repeats may be
CLASSIFIER_SPEC = ("vocab_size", "embed_dim", "masked", "bidirectional")  # 0/False: left out


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


def write_model_dir(path: Path, doc: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    """``doc`` as model.json, ``arrays`` as params.npz and both files' SHA-256 in
    checksums.json, written in a temporary folder beside ``path`` and renamed into place (an
    interrupted save leaves the previous model or nothing, never half a model)."""
    tmp = temp_dir(path)
    try:
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


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except RecursionError:
        raise ModelError(f"{path} nests too deeply to be an lstmtune model file; re-export the "
                         "model.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is not readable JSON ({exc}); re-export the model.") from None


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
    sums = sums.get("sha256") if isinstance(sums, dict) else None
    if not isinstance(sums, dict):
        sums = {}  # every file then fails its check below, naming it
    for name in FILES:
        got = _sha256(path / name)
        if sums.get(name) != got:
            raise ModelError(
                f"model directory '{path}' failed its integrity check: {name} has SHA-256 "
                f"{got[:12]}…, checksums.json expects {str(sums.get(name))[:12]}… — the file "
                "was changed after the model was saved. Restore the original files or "
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
        raise ModelError(f"{path} is not a readable weight file ({exc}); re-export the "
                         "model.") from None
    return out


def read_weights(path: Path, want: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """The weight arrays of a verified model directory, refused unless their shapes (read
    from the headers before anything is allocated) are ``want``."""
    if _npz_headers(path / "params.npz") != want:
        raise ModelError(f"{path / 'params.npz'}: the weights do not have the shapes the "
                         "model needs; re-export the model.")
    try:
        with np.load(path / "params.npz", allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path / 'params.npz'} is not a readable weight file ({exc}).") \
            from None


def load_model(path: str | os.PathLike) -> Ensemble | Classifier:
    """Read a model directory written by :func:`save_model` (or ``save_classifier``: then
    a :class:`Classifier`), refusing one that was changed or does not match its own
    description."""
    path = Path(path)
    _verify(path)
    doc = _read_json(path / "model.json")
    if isinstance(doc, dict) and doc.get("format") == CLASSIFIER_FORMAT:
        return load_classifier(path, doc)
    from lstmtune.model._panel import PANEL_FORMAT, load_panel_model

    if isinstance(doc, dict) and doc.get("format") == PANEL_FORMAT:
        return load_panel_model(path, doc)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelError(f"{path / 'model.json'} is not an lstmtune model (format "
                         f"{doc.get('format') if isinstance(doc, dict) else None!r}).")
    if doc.get("format_version") != FORMAT_VERSION:
        info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
        raise ModelError(f"{path} has model format version {doc.get('format_version')!r}; "
                         f"this lstmtune reads version {FORMAT_VERSION}: use the lstmtune "
                         f"version that saved it ({info.get('lstmtune_version')}).")
    key = "config"  # the entry being read, named when it is malformed
    try:
        config = doc["config"]
        if not isinstance(config, dict):
            raise TypeError(f"a table of hyperparameters is needed, got {config!r:.40}")
        unknown = sorted(set(config) - set(PARAMS))
        if unknown:
            raise ModelError(f"{path / 'model.json'}: unknown hyperparameters {unknown}.")
        config = complete(config)
        config = {name: PARAMS[name].check(value) for name, value in config.items()}
        key = "spec"
        spec = ModelSpec(**{**doc["spec"], "units": tuple(doc["spec"]["units"])})
        key = "prep"
        prep = FittedPrep.from_dict(doc["prep"])
        key = "seeds"
        seeds = np.asarray(doc["seeds"], int)
        if seeds.ndim != 1:
            raise ValueError(f"a list of whole numbers is needed, got shape {seeds.shape}")
        key = "first_origin"
        first_origin = doc["first_origin"]
        if not isinstance(first_origin, int) or isinstance(first_origin, bool) \
                or first_origin < 0:
            raise ValueError(f"a whole number >= 0 is needed, got {first_origin!r:.40}")
        key = "info"
        info = dict(doc.get("info", {}))
        key = "params"
        declared = {k: tuple(v) for k, v in doc["params"].items()}
    except ModelError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError,
            LstmtuneError) as exc:
        what = f"lacks '{key}'" if isinstance(exc, KeyError) and str(exc).strip("'") == key \
            else f"has a malformed '{key}' ({exc})"
        raise ModelError(f"{path / 'model.json'} {what}; re-export the model.") from None
    if ForecastTask.of(config).model(config, n_features=prep.n_features) != spec:
        raise ModelError(f"{path / 'model.json'}: the saved model spec {spec} does not match "
                         f"its configuration and preprocessing ({prep.n_features} input "
                         "feature(s)); re-export the model.")
    if not 1 <= len(seeds) <= MAX_MEMBERS:
        raise ModelError(f"{path / 'model.json'} lists {len(seeds)} members; a model has 1 to "
                         f"{MAX_MEMBERS}: re-export the model.")
    want = {k: (len(seeds), *v) for k, v in param_shapes(spec).items()}
    need = 4 * sum(int(np.prod(v)) for v in want.values())
    total = machine_memory()
    if total is not None and need > MEMORY_FRACTION * total:
        raise ModelError(f"{path / 'model.json'} describes {need / 2**30:,.1f} GiB of weights, "
                         f"more than half of this machine's {total / 2**30:.0f} GiB: it was "
                         "not saved by lstmtune on a machine like this one; re-export it.")
    if declared != want:
        raise ModelError(f"{path / 'model.json'}: its 'params' shapes do not match its model "
                         f"({len(seeds)} members, {spec.units} units); re-export the model.")
    got = _npz_headers(path / "params.npz")  # shapes read before any array is allocated
    if got != want:
        bad = next((k for k in want if k in got and got[k] != want[k]), None) or \
            sorted(set(want) ^ set(got))[0]
        raise ModelError(f"{path / 'params.npz'}: weight {bad} has shape {got.get(bad)}, the "
                         f"model ({len(seeds)} members, {spec.units} units) needs "
                         f"{want.get(bad)}; re-export the model.")
    try:
        with np.load(path / "params.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path / 'params.npz'} is not a readable weight file ({exc}); "
                         "re-export the model.") from None
    if any(a.dtype != np.float32 for a in arrays.values()):
        raise ModelError(f"{path / 'params.npz'}: weights must be float32; re-export the "
                         "model.")
    if not all(np.isfinite(a).all() for a in arrays.values()):
        raise ModelError(f"{path / 'params.npz'} holds NaN/inf weights; re-export the model.")
    return Ensemble(config=config, spec=spec, params=nest_params(arrays), seeds=seeds,
                    prep=prep, first_origin=first_origin, info=info)
