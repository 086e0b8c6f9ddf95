"""The driver: chunks of epochs, snapshots, pruning hooks, and the result arrays.

Numpy in, numpy out; no pandas.  ``train_population`` is the one entry point the evaluation
and search layers call.
"""

from __future__ import annotations

import gc
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from lstmtune.engine._lstm import ModelSpec, n_params
from lstmtune.engine._train import (
    HPARAM_DEFAULTS,
    PopulationData,
    TrainSpec,
    init_members,
    predict,
    run_chunk,
    unravel,
)
from lstmtune.errors import ConfigError

__all__ = ["ChunkView", "PopulationResult", "train_population", "enable_compilation_cache",
           "chunk_length", "population_bucket", "estimate_bytes"]

_CACHE_ON = False


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path:
    """Turn on JAX's persistent compilation cache (idempotent): a second run of the same shapes
    loads its programs from disk.  Default folder: $LSTMTUNE_CACHE_DIR or ~/.cache/lstmtune/jax.
    """
    global _CACHE_ON
    folder = Path(path or os.environ.get("LSTMTUNE_CACHE_DIR")
                  or Path.home() / ".cache" / "lstmtune" / "jax")
    if not _CACHE_ON:
        folder.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(folder))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        _CACHE_ON = True
    return folder


MAX_MAPPINGS = 16_000  # a quarter of Linux's default vm.max_map_count (65,530)


def release_programs(max_mappings: int | None = None) -> bool:
    """Drop JAX's compiled programs held in memory once this process has more than
    ``max_mappings`` memory mappings: every compiled program maps its own code and is never
    released otherwise, so a long study (or a loop over many series) would grow until the
    kernel refuses new mappings and LLVM fails (``Cannot allocate memory``).  The next use
    of a dropped program loads it from the persistent compilation cache.  Returns whether it
    dropped them; a no-op where ``/proc`` cannot be read.  Default limit: ``MAX_MAPPINGS``."""
    try:
        with open("/proc/self/maps", "rb") as f:
            n = sum(1 for _ in f)
    except OSError:
        return False
    if n <= (MAX_MAPPINGS if max_mappings is None else max_mappings):
        return False
    jax.clear_caches()
    gc.collect()
    return True


@dataclass(frozen=True, eq=False)
class ChunkView:
    """What an ``on_chunk`` hook sees between chunks of epochs (pruning, Ctrl-C): histories so
    far, which members still train, and their current predictions over ``eval_X``.  The
    evaluation layer adds ``scores`` (original-unit scores per member) with
    ``dataclasses.replace``, and the experiment layer binds it to its task's metric."""

    epochs_done: int
    epochs_total: int
    active: np.ndarray  # (P,) bool
    train_loss: np.ndarray  # (P, epochs so far)
    val_loss: np.ndarray
    predict: Callable[[], np.ndarray]  # (P, Se, H) model-space predictions, current weights
    scores: Callable[..., np.ndarray] | None = None


@dataclass(frozen=True, eq=False)
class PopulationResult:
    """Everything a population run produced, member axis first (P)."""

    params: dict  # final weights (the best epoch's when early stopping restores them)
    epochs_trained: np.ndarray  # (P,)
    failed: np.ndarray  # (P,) bool: loss or weights became NaN/inf
    fail_epoch: np.ndarray  # (P,) epoch at which it failed, -1 otherwise
    early_stopped: np.ndarray  # (P,) bool
    pruned: np.ndarray  # (P,) bool: stopped from outside
    best_epoch: np.ndarray  # (P,) epoch of the best validation loss (0 without early stopping)
    train_loss: np.ndarray  # (P, E) per-epoch training loss (NaN after a member stopped)
    val_loss: np.ndarray  # (P, E) per-epoch validation loss (NaN when not evaluated)
    predictions: np.ndarray  # (P, Se, H) model-space predictions over eval_X, final weights
    snapshots: dict[int, np.ndarray]  # epoch -> (P, Se, H), weights at that epoch
    history_predictions: np.ndarray | None  # (P, E / record_every, Se, H) when recorded
    record_every: int
    compile_seconds: float
    train_seconds: float

    @property
    def status(self) -> np.ndarray:
        out = np.full(self.failed.shape, "complete", dtype=object)
        out[self.early_stopped] = "early_stopped"
        out[self.pruned] = "pruned"
        out[self.failed] = "failed"
        return out

    @property
    def fail_reason(self) -> list[str | None]:
        return [f"loss or weights became NaN/inf at epoch {e}" if f else None
                for f, e in zip(self.failed, self.fail_epoch, strict=True)]


def chunk_length(epochs: int, snapshots: tuple[int, ...], max_chunk: int = 250,
                 multiple: int = 1) -> int:
    """The largest chunk that divides every snapshot and the epoch budget (one compiled
    program) and is a multiple of ``multiple`` (the recording interval), capped at
    ``max_chunk`` where possible so progress and pruning happen regularly."""
    g = math.gcd(epochs, *snapshots) if snapshots else epochs
    fits = [d for d in range(multiple, g + 1, multiple) if g % d == 0]
    return max([d for d in fits if d <= max_chunk] or [min(fits)])


def _hparams(hparams: Mapping[str, object] | None, P: int) -> dict[str, np.ndarray]:
    hparams = dict(hparams or {})
    unknown = set(hparams) - set(HPARAM_DEFAULTS)
    if unknown:
        raise ConfigError(f"unknown per-member hyperparameter(s) {sorted(unknown)}; valid: "
                          f"{', '.join(HPARAM_DEFAULTS)}.")
    out = {}
    for k, default in HPARAM_DEFAULTS.items():
        v = np.broadcast_to(np.asarray(hparams.get(k, default), np.float32), (P,)).copy()
        out[k] = v
    for k in ("dropout", "recurrent_dropout"):
        if ((out[k] < 0) | (out[k] >= 1)).any():
            raise ConfigError(f"{k} must lie in [0, 1), got {out[k].min()}..{out[k].max()}.")
    if (out["learning_rate"] <= 0).any():
        raise ConfigError("learning_rate must be > 0 for every member.")
    return out


def _check_data(data: PopulationData, spec: ModelSpec, tspec: TrainSpec, P: int) -> None:
    X = np.asarray(data.X)
    T, F = X.shape[-2:]
    if (spec.timesteps, spec.n_features) != (T, F):
        raise ConfigError(f"data windows are (T={T}, F={F}) but the model expects "
                          f"(T={spec.timesteps}, F={spec.n_features}).")
    if X.ndim == 4 and X.shape[0] != P:
        raise ConfigError(f"per-member data has {X.shape[0]} members but {P} seeds were given.")
    if spec.stateful and tspec.batch_size > X.shape[-3]:
        raise ConfigError(f"stateful batch_size={tspec.batch_size} exceeds the "
                          f"{X.shape[-3]} training samples.")


def population_bucket(P: int, smallest: int = 8) -> int:
    """The compiled population size for P members: 8, 12, 16, 24, 32, 48, ..., 256 (at most
    a third wasted), then multiples of 64, so populations of nearby sizes reuse one program
    instead of compiling one each (a search's batches vary in size from shape to shape).
    ``smallest``: the first size (2 gives 2, 3, 4, 6, 8, ...: for members so costly that
    padding a small population to 8 would cost more than compiling its own program)."""
    if P > 256:  # large populations (a panel's series): multiples of 64, less padding
        return -(-P // 64) * 64
    size = smallest
    while size < P:
        size = size * 3 // 2 if size & (size - 1) == 0 else size * 4 // 3
    return size


def estimate_bytes(spec: ModelSpec, *, members: int, batch_size: int, samples: int) -> int:
    """A generous estimate of the memory (bytes, float32) a population of ``members`` needs:
    per member about ten copies of its weights (weights, gradients, two optimiser moments,
    best weights, host copies), the activations backpropagation keeps for one batch (about
    twelve values per unit, time step and layer) and its forecasts over ``samples`` windows.
    Meant to refuse absurd requests before they start, not to plan memory."""
    directions = 2 if spec.bidirectional else 1
    per = (10 * n_params(spec) + 12 * batch_size * spec.timesteps * sum(spec.units) * directions
           + 4 * samples * spec.horizon)
    return 4 * population_bucket(members) * per


def _per_member(data: PopulationData) -> tuple[bool, ...]:
    ndim = {"X": 3, "y": 2, "mask": 1, "eval_X": 3, "eval_y": 2}
    return tuple(np.ndim(getattr(data, k)) == ndim[k] + 1 for k in ndim)


class _Working:
    """The members actually being trained: the still-active ones, padded to a bucket size
    with inactive copies (whose results are never read).  Between chunks the population is
    rebuilt smaller when enough members have stopped (compaction), so stopped members stop
    costing compute."""

    def __init__(self, members: np.ndarray, bucket: bool | int) -> None:
        n = len(members)
        self.smallest = 8 if bucket is True else int(bucket)
        size = population_bucket(n, self.smallest) if bucket and n > 1 else n
        self.members = members  # member index of each real slot
        self.slots = np.concatenate([members, np.repeat(members[:1], size - n)])
        self.real = n
        self.samples: int | None = None  # training samples kept (per-member data)

    @property
    def size(self) -> int:
        return len(self.slots)

    def gather(self, tree):
        """The working slots of the full tree; padding slots are inactive."""
        out = jax.tree.map(lambda a: jnp.asarray(np.asarray(a)[self.slots]), tree)
        if self.size > self.real:
            out = out._replace(active=out.active.at[self.real:].set(False))
        return out

    def scatter(self, full, part):
        """Write the real slots of ``part`` back into the full (P, ...) tree."""
        return jax.tree.map(lambda f, a: _put(np.asarray(f), self.members,
                                              np.asarray(a)[: self.real]), full, part)

    def active(self, active: np.ndarray) -> jax.Array:
        """The working population's active flags from the full (P,) mask."""
        out = active[self.slots].copy()
        out[self.real:] = False
        return jnp.asarray(out)


GROUP_GAIN = 0.8  # another length group must cut the padded work to this share or less
MAX_GROUPS = 4


def _lengths(data: PopulationData, per_member: tuple[bool, ...], P: int) -> np.ndarray | None:
    """Each member's training samples up to its last real one (per-member data, padding
    last), or None when the training data is shared."""
    if not per_member[2]:
        return None
    real = np.asarray(data.mask) > 0
    return np.where(real.any(axis=1), real.shape[1] - np.argmax(real[:, ::-1], axis=1), 0)


def _length_groups(lengths: np.ndarray | None, P: int, stateful: bool, bucket) -> list:
    """Members split into up to ``MAX_GROUPS`` groups of similar training lengths, each
    trained on its own longest member's samples instead of everyone's (a panel's series
    differ in length several fold); a member's batches are the same either way (padding
    steps change nothing), so its training is too.  One group when the data is shared,
    stateful, or splitting does not cut the padded work by ``GROUP_GAIN`` per group."""
    everyone = [np.arange(P)]
    if lengths is None or stateful or P < 16:
        return everyone
    order = np.argsort(lengths, kind="stable")

    def cost(groups) -> float:
        return sum((population_bucket(len(g)) if bucket else len(g)) * max(
            int(lengths[g].max()), 1) for g in groups)

    best = everyone
    for k in range(2, MAX_GROUPS + 1):
        split = [g for g in np.array_split(order, k) if len(g)]
        if cost(split) <= GROUP_GAIN * cost(best):
            best = split
    return [np.sort(g) for g in best]


def _put(full: np.ndarray, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = full.copy()
    out[idx] = values
    return out


def train_population(spec: ModelSpec, tspec: TrainSpec, data: PopulationData, *,
                     seeds: np.ndarray, hparams: Mapping[str, object] | None = None,
                     on_chunk: Callable[[int, dict], np.ndarray | None] | None = None,
                     max_chunk: int = 250, bucket: bool | int = True,
                     units: np.ndarray | None = None,
                     eval_future: np.ndarray | None = None) -> PopulationResult:
    """Train ``len(seeds)`` members of one static shape together.

    ``hparams`` maps per-member hyperparameters (learning_rate, dropout, recurrent_dropout,
    l1, l2, momentum) to scalars or (P,) arrays.  ``on_chunk(epochs_done, view)`` is called
    after every chunk with a :class:`ChunkView` (histories so far, ``view.predict()``: current
    predictions over eval_X); it may return a (P,) bool mask of members to stop (pruning).  With
    ``bucket`` the trained population is padded to :func:`population_bucket` sizes so that
    differently sized populations share programs (an int: the smallest bucket, see
    :func:`population_bucket`), and it shrinks between chunks once enough members have
    stopped (early stopping, pruning, failure).  ``units`` (P, layers) lets
    members narrower than ``spec.units`` share its program (see ``init_members``); their
    ``params`` come back in ``spec``'s layout, zero in the units they do not have.
    ``eval_future`` (shared or per member like ``eval_X``; see :func:`predict`): a one-step
    model's predictions, snapshots and pruning views cover H steps, each fed the previous
    forecast; training, early stopping and recorded histories stay one step ahead.
    """
    enable_compilation_cache()
    release_programs()  # a long study stays within the process's memory mappings
    seeds = np.asarray(seeds)
    P = len(seeds)
    hp = _hparams(hparams, P)
    _check_data(data, spec, tspec, P)
    data = PopulationData(*(np.asarray(a, np.float32 if np.asarray(a).dtype != bool else bool)
                            for a in data))
    per_member = _per_member(data)
    full = jax.device_get(init_members(spec, tspec, seeds, hp, units))  # numpy, (P, ...)
    lengths = _lengths(data, per_member, P)

    def working(members: np.ndarray) -> _Working:
        w = _Working(members, bucket)
        w.samples = int(lengths[members].max()) if lengths is not None else None
        return w

    def working_inputs(w: _Working):
        st = w.gather(full)
        h = {k: v[w.slots] for k, v in hp.items()}
        cut = slice(None) if w.samples is None else slice(0, max(w.samples, 1))
        d = PopulationData(*(jnp.asarray(a[w.slots][:, cut] if pm and k < 3 else
                                         a[w.slots] if pm else a)
                             for k, (a, pm) in enumerate(zip(data, per_member, strict=True))))
        return st, h, d

    groups = [working(g) for g in _length_groups(lengths, P, spec.stateful, bucket)]
    inputs = [working_inputs(w) for w in groups]
    shared_eval = None if per_member[3] else jnp.asarray(data.eval_X)

    def predict_full(params) -> np.ndarray:
        X = shared_eval if shared_eval is not None else jnp.asarray(data.eval_X)
        return predict(params, X, spec, tspec.batch_size, future=eval_future)

    every = tspec.record_every if tspec.record_predictions else 1
    L = chunk_length(tspec.epochs, tspec.snapshots, max_chunk, multiple=every)
    train_hist, val_hist, pred_hist, snaps = [], [], [], {}
    last_pred = None  # (P, Se, H): frozen members repeat their last record
    pruned = np.zeros(P, bool)
    t0 = time.perf_counter()
    compile_s = 0.0
    done = 0
    while done < tspec.epochs:
        blocks = [np.full((P, L), np.nan, np.float32) for _ in range(2)]
        preds_block = None
        for gi, w in enumerate(groups):
            state, hp_w, data_w = inputs[gi]
            if not np.asarray(state.active)[: w.real].any():
                continue  # every member of this group has stopped
            t_chunk = time.perf_counter()
            state, rec = run_chunk(state, hp_w, data_w, spec, tspec, L)
            rec = jax.device_get(rec)
            if done == 0:
                compile_s += time.perf_counter() - t_chunk  # first call: compile + one chunk
            full = w.scatter(full, jax.device_get(state))
            inputs[gi] = (state, hp_w, data_w)
            for block, r in zip(blocks, rec[:2], strict=True):
                block[w.members] = r[: w.real]
            if tspec.record_predictions:
                r = rec[2][: w.real]
                if last_pred is None:
                    last_pred = np.zeros((P, *r.shape[2:]), np.float32)
                if preds_block is None:
                    preds_block = np.repeat(last_pred[:, None], r.shape[1], axis=1)
                preds_block[w.members] = r
        done += L
        train_hist.append(blocks[0])
        val_hist.append(blocks[1])
        if preds_block is not None:
            last_pred = preds_block[:, -1].copy()
            pred_hist.append(preds_block)
        if done in tspec.snapshots:
            snaps[done] = predict_full(full.params)
        active = np.asarray(full.active)
        if on_chunk is not None:
            view = ChunkView(epochs_done=done, epochs_total=tspec.epochs,
                             active=active.copy(),
                             train_loss=np.concatenate(train_hist, axis=1),
                             val_loss=np.concatenate(val_hist, axis=1),
                             predict=lambda p=full.params: predict_full(p))
            stop = on_chunk(done, view)
            if stop is not None:
                stop = np.asarray(stop, bool) & active
                pruned |= stop
                active = active & ~stop
                full = full._replace(active=active)
        if not active.any():
            break  # every member stopped: its weights are final
        for gi, w in enumerate(groups):
            live = w.members[active[w.members]]
            if len(live) and bucket and \
                    population_bucket(len(live), w.smallest) <= 0.75 * w.size:
                groups[gi] = working(live)  # compaction: stopped members stop costing
                inputs[gi] = working_inputs(groups[gi])
            else:
                state, hp_w, data_w = inputs[gi]
                inputs[gi] = (state._replace(active=w.active(active)), hp_w, data_w)
    if done < tspec.epochs:  # frozen weights: later snapshots and records equal the last ones
        last = predict_full(full.params)
        snaps.update({e: last for e in tspec.snapshots if e > done})
        if pred_hist:
            missing = (tspec.epochs - done) // every
            pred_hist.append(np.repeat(pred_hist[-1][:, -1:], missing, axis=1))
    params = full.params  # flat (P, n)
    if tspec.patience is not None and tspec.restore_best:
        params = np.where((full.best_epoch > 0)[:, None], full.best_params, params)
    preds = predict_full(params)
    E = tspec.epochs
    pad = lambda a: np.pad(a, ((0, 0), (0, E - a.shape[1])), constant_values=np.nan)  # noqa: E731
    failed = np.asarray(full.failed)
    epochs_trained = np.asarray(full.epoch)
    early = ~failed & ~pruned & (epochs_trained < E) if tspec.patience is not None else \
        np.zeros(P, bool)
    return PopulationResult(
        params=jax.device_get(jax.vmap(unravel(spec))(jnp.asarray(params))),
        epochs_trained=epochs_trained, failed=failed,
        fail_epoch=np.asarray(full.fail_epoch), early_stopped=early, pruned=pruned,
        best_epoch=np.asarray(full.best_epoch),
        train_loss=pad(np.concatenate(train_hist, axis=1)),
        val_loss=pad(np.concatenate(val_hist, axis=1)),
        predictions=preds, snapshots=snaps,
        history_predictions=np.concatenate(pred_hist, axis=1) if pred_hist else None,
        record_every=every, compile_seconds=compile_s,
        train_seconds=time.perf_counter() - t0)
