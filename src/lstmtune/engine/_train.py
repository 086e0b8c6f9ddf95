"""Population training: P members (configuration × repeat seed × fold) as one jit(vmap(scan)).

A member is trained exactly as it would be alone (the test suite checks population == loop);
the member axis only batches the arithmetic.  Training runs in chunks of epochs: between chunks
the caller sees progress and may stop members (pruning).  Inside a chunk each member carries its
own early-stopping state, and a member whose loss or weights stop being finite is marked
failed at that epoch and frozen, while the others carry on.

Axes: P members, E epochs, S samples, B batch, T time steps, F features, H horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from lstmtune.engine._lstm import ModelSpec, forward, init_params, input_width, zero_state
from lstmtune.errors import ConfigError

__all__ = ["TrainSpec", "PopulationData", "MemberState", "HPARAM_DEFAULTS", "OPTIMIZERS",
           "LOSSES", "init_members", "run_chunk", "predict", "unravel"]

OPTIMIZERS = ("adam", "rmsprop", "sgd")
LOSSES = ("mse", "mae", "huber", "bce", "cce")  # bce/cce: cross-entropy of logits
# per-member numeric hyperparameters (data, not structure: they share one compiled program)
HPARAM_DEFAULTS = {"learning_rate": 1e-3, "dropout": 0.0, "recurrent_dropout": 0.0,
                   "l1": 0.0, "l2": 0.0, "momentum": 0.0}


@dataclass(frozen=True, kw_only=True)
class TrainSpec:
    """The static structure of training (part of the compiled program's identity)."""

    epochs: int = 100  # maximum epochs
    batch_size: int = 32
    optimizer: str = "adam"  # adam | rmsprop | sgd (Keras defaults: eps 1e-7, rho 0.9)
    loss: str = "mse"  # mse | mae | huber (delta 1) | bce (one logit, y in {0, 1}) |
    # cce (K logits, y the class index): binary or categorical cross-entropy
    shuffle: bool = True  # reshuffle every epoch (stateless only; stateful never shuffles)
    patience: int | None = None  # early stopping on the validation loss; None = off
    min_delta: float = 0.0
    restore_best: bool = True  # with early stopping: end with the best epoch's weights
    dropout: bool = False  # compile the dropout path (the rates are per-member data)
    record_predictions: bool = False  # keep eval predictions per epoch (diagnostics)
    record_every: int = 1  # ... every this many epochs (must divide epochs and snapshots)
    snapshots: tuple[int, ...] = field(default=())  # epochs at which to keep predictions

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError(f"epochs and batch_size must be >= 1, got epochs={self.epochs}, "
                              f"batch_size={self.batch_size}.")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got "
                              f"{self.optimizer!r}.")
        if self.loss not in LOSSES:
            raise ConfigError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}.")
        if self.patience is not None and self.patience < 1:
            raise ConfigError(f"patience must be >= 1 or None, got {self.patience}.")
        bad = [s for s in self.snapshots if not 1 <= s <= self.epochs]
        if bad:
            raise ConfigError(f"snapshot epochs must lie in 1..epochs={self.epochs}, got {bad}.")
        if self.record_every < 1 or any(e % self.record_every for e in (self.epochs,
                                                                          *self.snapshots)):
            raise ConfigError(f"record_every={self.record_every} must divide epochs="
                              f"{self.epochs} and every snapshot {self.snapshots}.")
        if self.record_every > 1 and self.patience is not None:
            raise ConfigError("record_every > 1 cannot be combined with early stopping, which "
                              "evaluates every epoch; use record_every=1.")

    @property
    def needs_eval(self) -> bool:
        """Evaluate inside every epoch (early stopping, or recording each epoch)."""
        return self.patience is not None or (self.record_predictions and self.record_every == 1)


class PopulationData(NamedTuple):
    """Training and evaluation arrays; each may be shared (no P axis) or per member (P first).

    X (S, T, F), y (S, H), mask (S,) marks real samples (padding last): bool, or float sample
    weights (class weights; 0 for padding), the loss being the weighted mean.  ``eval_X`` (Se, T, F)
    holds every window in time order (train, validation, test) and is predicted in one pass,
    so a stateful model builds its state over the training windows before the later ones;
    ``eval_y`` (Se, H) is finite only where the validation loss is scored.
    """

    X: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    eval_X: np.ndarray
    eval_y: np.ndarray


class MemberState(NamedTuple):
    """One member's training state; weights are one flat vector (see ``unravel``)."""

    params: jax.Array  # flat weights
    opt_state: tuple
    key: jax.Array
    epoch: jax.Array  # epochs trained
    active: jax.Array  # still training (not stopped, pruned or failed)
    failed: jax.Array
    fail_epoch: jax.Array
    best_val: jax.Array
    best_epoch: jax.Array
    wait: jax.Array
    best_params: jax.Array


def _optimizer(name: str, momentum: jax.Array) -> optax.GradientTransformation:
    """Direction only; the per-member learning rate multiplies the result."""
    if name == "adam":
        return optax.scale_by_adam(b1=0.9, b2=0.999, eps=1e-7)
    if name == "rmsprop":
        return optax.scale_by_rms(decay=0.9, eps=1e-7)
    return optax.trace(decay=momentum)


def _loss(name: str, out: jax.Array, y: jax.Array) -> jax.Array:
    """Per-output loss of outputs ``out`` (..., H) against ``y``: same shape as ``y``
    (cross-entropy: one value per sample, y (..., 1) holding the label)."""
    if name == "bce":
        return optax.sigmoid_binary_cross_entropy(out, y)
    if name == "cce":
        logp = jax.nn.log_softmax(out, axis=-1)
        return -jnp.take_along_axis(logp, y.astype(jnp.int32), axis=-1)
    err = out - y
    if name == "mse":
        return err**2
    if name == "mae":
        return jnp.abs(err)
    return optax.huber_loss(err, delta=1.0)


def _tree_where(cond: jax.Array, a, b):
    return jax.tree.map(lambda x, y: jnp.where(cond, x, y), a, b)


def _finite(flat: jax.Array) -> jax.Array:
    """All entries finite (a NaN or inf anywhere makes the sum non-finite)."""
    return jnp.isfinite(jnp.sum(flat))


@lru_cache(maxsize=64)
def unravel(spec: ModelSpec):
    """The function mapping a flat weight vector back to the parameter pytree of ``spec``.

    Weights travel as one vector per member so that the optimiser, the failure checks and the
    early-stopping copies are a handful of array operations rather than one per leaf: for the
    tiny models of seed 000 that is most of the cost per step.
    """
    shapes = jax.eval_shape(partial(init_params, spec=spec), jax.random.PRNGKey(0))
    return ravel_pytree(jax.tree.map(lambda a: jnp.zeros(a.shape, a.dtype), shapes))[1]


def _init_member(seed, momentum, spec: ModelSpec, optimizer: str) -> MemberState:
    key = jax.random.PRNGKey(seed)
    k_init, k_run = jax.random.split(key)
    params = ravel_pytree(init_params(k_init, spec))[0]
    opt_state = _optimizer(optimizer, momentum).init(params)
    z = jnp.zeros((), jnp.int32)
    return MemberState(params, opt_state, k_run, z, jnp.array(True), jnp.array(False),
                       z - 1, jnp.array(jnp.inf), z, z, params)


_init_one = jax.jit(_init_member, static_argnames=("spec", "optimizer"))


def _init_members(seeds: np.ndarray, momentum: np.ndarray, spec: ModelSpec, optimizer: str
                  ) -> MemberState:
    """Members initialised one call each, stacked on the host: one small program per spec
    whatever the population size (a vmapped init compiled per size cost about 2 s each on
    a cold cache, mostly the batched QR of the orthogonal initialiser)."""
    out = [_init_one(np.uint32(s), np.float32(m), spec=spec, optimizer=optimizer)
           for s, m in zip(np.asarray(seeds).tolist(), np.asarray(momentum).tolist(),
                           strict=True)]
    return jax.tree.map(lambda *a: np.stack(a), *jax.device_get(out))


def init_members(spec: ModelSpec, tspec: TrainSpec, seeds: np.ndarray,
                 hparams: dict[str, np.ndarray], units: np.ndarray | None = None
                 ) -> MemberState:
    """Initial state of every member; member i's weights depend on seeds[i] only.

    ``units`` (P, layers), when given, holds each member's own layer widths, at most
    ``spec.units``: member i is initialised at its own widths (Keras' initialisers depend on
    them) and embedded in the wider program with zeros in the extra units.  Zero units stay
    exactly zero in training (their outputs are 0, so every gradient reaching them is 0, and
    Adam, RMSprop, momentum and l1/l2 leave a zero weight with a zero gradient at zero), so
    the member trains as it would alone while sharing the wider program.
    """
    seeds = np.asarray(seeds, np.uint32)
    momentum = np.asarray(hparams["momentum"], np.float32)
    state = _init_members(seeds, momentum, spec, tspec.optimizer)
    if units is None:
        return state
    if spec.bidirectional:
        raise ConfigError("bidirectional members are not zero-padded to a wider program: "
                          "give every member the program's own units.")
    units = np.asarray(units, int).reshape(len(seeds), len(spec.units))
    if (units > np.asarray(spec.units)).any() or (units < 1).any():
        raise ConfigError(f"member units must lie in 1..{spec.units} per layer, got "
                          f"{sorted({tuple(u) for u in units.tolist()})}.")
    params = np.array(state.params)
    for own in {tuple(u) for u in units.tolist()} - {spec.units}:
        sel = np.flatnonzero((units == own).all(axis=1))
        small = replace(spec, units=own)
        flat = _init_members(seeds[sel], momentum[sel], small, tspec.optimizer).params
        params[sel] = _embed(np.asarray(flat), small, spec)
    return state._replace(params=params, best_params=params)


def _embed(flat: np.ndarray, small: ModelSpec, big: ModelSpec) -> np.ndarray:
    """Flat weights (P, n) of ``small`` placed in ``big``'s layout, zeros elsewhere; each of
    the four gate blocks of a layer keeps its own first units.  Numpy only (no programs)."""
    src = _host_unravel(small, np.asarray(flat))
    dst = _host_unravel(big, np.zeros((flat.shape[0], _layout(big)[2]), np.float32))

    def gates(a, rows, u, U):  # (P, r, 4u) -> (P, rows, 4U)
        out = np.zeros((a.shape[0], rows, 4 * U), np.float32)
        for g in range(4):
            out[:, : a.shape[1], g * U: g * U + u] = a[:, :, g * u: (g + 1) * u]
        return out

    for i, (u, U) in enumerate(zip(small.units, big.units, strict=True)):
        s, d = src["layers"][i], dst["layers"][i]
        d["W"] = gates(s["W"], d["W"].shape[1], u, U)
        d["U"] = gates(s["U"], U, u, U)
        d["b"] = gates(s["b"][:, None], 1, u, U)[:, 0]
    dst["Wd"][:, : small.units[-1]] = src["Wd"]
    dst["bd"] = src["bd"]
    if "E" in src:
        dst["E"] = src["E"]
    leaves = jax.tree.leaves(dst)
    return np.concatenate([x.reshape(len(x), -1) for x in leaves], axis=1)


@lru_cache(maxsize=64)
def _layout(spec: ModelSpec):
    """(treedef, leaf shapes, total size) of ``spec``'s parameters, in ravel_pytree order."""
    shapes = jax.eval_shape(partial(init_params, spec=spec), jax.random.PRNGKey(0))
    leaves, treedef = jax.tree.flatten(shapes)
    return treedef, [a.shape for a in leaves], sum(math.prod(a.shape) for a in leaves)


def _host_unravel(spec: ModelSpec, flat: np.ndarray) -> dict:
    """``unravel`` of a (P, n) numpy batch, on the host."""
    treedef, shapes, _ = _layout(spec)
    cuts = np.cumsum([math.prod(sh) for sh in shapes])[:-1]
    parts = np.split(flat, cuts, axis=1)
    return jax.tree.unflatten(treedef, [p.reshape(len(flat), *sh).copy()
                                        for p, sh in zip(parts, shapes, strict=True)])


def _dropout_masks(key, spec: ModelSpec, hp, n: int):
    """Per sample: one input mask and one recurrent mask per layer, fixed over time (Keras).

    Drawn unit-major, (units, n), and transposed: with JAX's partitionable threefry the draw
    of unit j is then the same whatever the layer's width, so a member padded to a wider
    program (see ``init_members``) gets exactly the masks it would get alone."""
    masks = []
    f_in = input_width(spec)
    for u in spec.units:
        key, k1, k2 = jax.random.split(key, 3)
        keep_in, keep_rec = 1.0 - hp["dropout"], 1.0 - hp["recurrent_dropout"]
        m_in = jax.random.bernoulli(k1, keep_in, (f_in, n)).T / keep_in
        m_rec = jax.random.bernoulli(k2, keep_rec, (u, n)).T / keep_rec
        masks.append((m_in, m_rec))  # a bidirectional layer's two directions share them
        f_in = 2 * u if spec.bidirectional else u
    return masks


def _batch_states(spec: ModelSpec, n: int):
    return [(jnp.zeros((n, u)), jnp.zeros((n, u))) for u in spec.units]


def _forward_batch(params, xb, states, spec: ModelSpec, masks=None):
    """(B, T, F) with per-sample states → (B, H), new states."""
    if masks is None:
        return jax.vmap(lambda x, s: forward(params, x, s, spec))(xb, states)
    return jax.vmap(lambda x, s, m: forward(params, x, s, spec, m))(xb, states, masks)


def _rollout(params, x, future, spec: ModelSpec):
    """One window x (T, F) forecast H = len(future) + 1 steps by a one-step model: each
    forecast becomes the target column of the next input row, whose other columns are the
    known ``future`` (H - 1, F - 1)."""
    state = zero_state(spec)

    def step(x, feats):
        y, _ = forward(params, x, state, spec)
        row = jnp.concatenate([y[:1], feats])
        return jnp.concatenate([x[1:], row[None]]), y[0]

    x_last, ys = jax.lax.scan(step, x, future)
    y_last, _ = forward(params, x_last, state, spec)
    return jnp.concatenate([ys, y_last[:1]])


def _predict_member(flat, eval_X, spec: ModelSpec, batch_size: int, future=None):
    """Predictions (Se, H) for one member: independent windows, or one stateful pass; with
    ``future`` (Se, H - 1, F - 1), H steps of a one-step model fed its own forecasts."""
    params = unravel(spec)(flat)
    se = eval_X.shape[0]
    if future is not None:
        return jax.vmap(lambda x, f: _rollout(params, x, f, spec))(eval_X, future)
    if not spec.stateful:
        out, _ = _forward_batch(params, eval_X, _batch_states(spec, se), spec)
        return out
    nb = math.ceil(se / batch_size)
    pad = nb * batch_size - se
    xs = jnp.concatenate([eval_X, jnp.zeros((pad, *eval_X.shape[1:]))]) if pad else eval_X
    xs = xs.reshape(nb, batch_size, *eval_X.shape[1:])

    def step(states, xb):
        out, states = _forward_batch(params, xb, states, spec)
        return states, out

    _, outs = jax.lax.scan(step, _batch_states(spec, batch_size), xs)
    return outs.reshape(nb * batch_size, -1)[:se]


def _epoch(state: MemberState, hp, data: PopulationData, spec: ModelSpec, tspec: TrainSpec):
    """One epoch of one member: batches in order (stateful) or reshuffled (stateless)."""
    X, y, mask = data.X, data.y, data.mask.astype(jnp.float32)  # bool or sample weights
    S, B = X.shape[0], tspec.batch_size
    nb = math.ceil(S / B)
    key, k_perm, k_drop = jax.random.split(state.key, 3)
    if tspec.shuffle and not spec.stateful:
        order = jnp.argsort(jnp.where(mask > 0, jax.random.uniform(k_perm, (S,)), 2.0))
    else:
        order = jnp.arange(S)
    order = jnp.concatenate([order, jnp.zeros(nb * B - S, order.dtype)]).reshape(nb, B)
    valid = (jnp.arange(nb * B) < S).reshape(nb, B)
    opt = _optimizer(tspec.optimizer, hp["momentum"])

    to_tree = unravel(spec)

    def batch_loss(flat, xb, yb, mb, states, masks):
        params = to_tree(flat)
        out, new_states = _forward_batch(params, xb, states, spec, masks)
        per = jnp.mean(_loss(tspec.loss, out, yb), axis=-1)
        loss = jnp.sum(per * mb) / jnp.maximum(jnp.sum(mb), 1.0)
        kernels = [p["W"] for p in params["layers"]]
        # |w| written as w * sign(w): its gradient at 0 is sign(0) = 0, as in TensorFlow
        # (JAX's abs has gradient 1 there, which would move the zero weights of padded units)
        reg = sum(hp["l1"] * jnp.sum(w * jax.lax.stop_gradient(jnp.sign(w)))
                  + hp["l2"] * jnp.sum(w**2) for w in kernels)
        return loss + reg, (loss, new_states)

    def step(carry, inp):
        params, opt_state, states, total = carry
        idx, ok, b = inp
        xb, yb = X[idx], y[idx]
        mb = mask[idx] * ok
        masks = (_dropout_masks(jax.random.fold_in(k_drop, b), spec, hp, B)
                 if tspec.dropout else None)
        grads, (loss, new_states) = jax.grad(batch_loss, has_aux=True)(
            params, xb, yb, mb, states, masks)
        updates, new_opt = opt.update(grads, opt_state, params)
        new_params = params - hp["learning_rate"] * updates
        do = jnp.sum(mb) > 0
        params = jnp.where(do, new_params, params)
        opt_state = _tree_where(do, new_opt, opt_state)
        states = jax.lax.stop_gradient(new_states) if spec.stateful else states
        return (params, opt_state, states, total + loss * jnp.sum(mb)), None

    carry = (state.params, state.opt_state, _batch_states(spec, B), jnp.zeros(()))
    (params, opt_state, _, total), _ = jax.lax.scan(
        step, carry, (order, valid, jnp.arange(nb)))
    return params, opt_state, key, total / jnp.maximum(jnp.sum(mask), 1)


def _member_chunk(state: MemberState, hp, data: PopulationData, *, spec: ModelSpec,
                  tspec: TrainSpec, n_epochs: int):
    def epoch_fn(st: MemberState, _):
        params, opt_state, key, train_loss = _epoch(st, hp, data, spec, tspec)
        ok = jnp.isfinite(train_loss) & _finite(params)
        newly_failed = st.active & ~ok
        step = st.active & ok
        params = jnp.where(step, params, st.params)
        opt_state = _tree_where(step, opt_state, st.opt_state)
        epoch = st.epoch + step.astype(jnp.int32)
        val_loss = jnp.array(jnp.nan)
        preds = None
        best_val, best_epoch, wait, best_params = st.best_val, st.best_epoch, st.wait, \
            st.best_params
        active = st.active & ok
        if tspec.needs_eval:
            preds = _predict_member(params, data.eval_X, spec, tspec.batch_size)
            scored = jnp.isfinite(data.eval_y)
            per = _loss(tspec.loss, preds, jnp.where(scored, data.eval_y, 0.0))
            val_loss = jnp.sum(jnp.where(scored, per, 0.0)) / jnp.maximum(jnp.sum(scored), 1)
        if tspec.patience is not None:
            improved = step & (val_loss < st.best_val - tspec.min_delta)
            best_val = jnp.where(improved, val_loss, st.best_val)
            best_epoch = jnp.where(improved, epoch, st.best_epoch)
            best_params = jnp.where(improved, params, st.best_params)
            wait = jnp.where(improved, 0, st.wait + step.astype(jnp.int32))
            active = active & (wait < tspec.patience)
        new = MemberState(params, opt_state, key, epoch, active,
                          st.failed | newly_failed,
                          jnp.where(newly_failed, st.epoch + 1, st.fail_epoch),
                          best_val, best_epoch, wait, best_params)
        rec = (jnp.where(step, train_loss, jnp.nan), jnp.where(step, val_loss, jnp.nan))
        if tspec.record_predictions and tspec.record_every == 1:
            rec = (*rec, preds)
        return new, rec

    every = tspec.record_every if tspec.record_predictions else 1
    if every == 1:
        return jax.lax.scan(epoch_fn, state, None, length=n_epochs)

    def group_fn(st: MemberState, _):  # `every` epochs, then one recorded evaluation
        st, (tl, vl) = jax.lax.scan(epoch_fn, st, None, length=every)
        return st, (tl, vl, _predict_member(st.params, data.eval_X, spec, tspec.batch_size))

    st, (tl, vl, preds) = jax.lax.scan(group_fn, state, None, length=n_epochs // every)
    return st, (tl.reshape(-1), vl.reshape(-1), preds)


@partial(jax.jit, static_argnames=("spec", "tspec", "n_epochs", "data_axes"))
def _run_chunk(state, hp, data, spec, tspec, n_epochs, data_axes):
    fn = partial(_member_chunk, spec=spec, tspec=tspec, n_epochs=n_epochs)
    return jax.vmap(fn, in_axes=(0, 0, PopulationData(*data_axes)))(state, hp, data)


def _data_axes(data: PopulationData, spec: ModelSpec) -> tuple:
    ndim = {"X": 3, "y": 2, "mask": 1, "eval_X": 3, "eval_y": 2}
    return tuple(0 if np.ndim(getattr(data, k)) == ndim[k] + 1 else None for k in ndim)


@lru_cache(maxsize=32)
def _sharded_chunk(spec: ModelSpec, tspec: TrainSpec, n_epochs: int, data_axes: tuple):
    """pmap over devices of vmap over that device's members."""
    fn = partial(_member_chunk, spec=spec, tspec=tspec, n_epochs=n_epochs)
    axes = PopulationData(*data_axes)
    return jax.pmap(jax.vmap(fn, in_axes=(0, 0, axes)), in_axes=(0, 0, axes))


def _split(x, D: int, pad: int):
    """(P, ...) -> (D, (P + pad) / D, ...), padding with copies of member 0.  Goes through
    host memory so that pmap places the shards itself (an array still laid out by the
    previous chunk's pmap would carry a conflicting sharding)."""
    x = np.asarray(x)
    if pad:
        x = np.concatenate([x, np.repeat(x[:1], pad, axis=0)])
    return x.reshape(D, -1, *x.shape[1:])


def _merge(x, P: int):
    return x.reshape(-1, *x.shape[2:])[:P]


def run_chunk(state: MemberState, hparams: dict, data: PopulationData, spec: ModelSpec,
              tspec: TrainSpec, n_epochs: int):
    """Train every member ``n_epochs`` more epochs; returns (state, per-epoch records (P, E)).

    With several devices (on CPU, ``lstmtune.engine`` asks JAX for one per core) the members
    are split across them, each device running the vmap of its share: on a 2-core CPU this is
    what lets large models and large populations use both cores.
    """
    hp = {k: jnp.asarray(v, jnp.float32) for k, v in hparams.items()}
    axes = _data_axes(data, spec)
    P, D = int(state.epoch.shape[0]), jax.local_device_count()
    if D == 1 or P == 1:
        return _run_chunk(state, hp, data, spec, tspec, n_epochs, axes)
    pad = (-P) % D
    st = jax.tree.map(lambda x: _split(x, D, pad), state)
    if pad:  # padding members only ride along
        st = st._replace(active=_split(np.arange(P + pad) < P, D, 0) & st.active)
    hp_s = {k: _split(v, D, pad) for k, v in hp.items()}
    data_s = PopulationData(*(_split(a, D, pad) if ax == 0 else a
                              for a, ax in zip(data, axes, strict=True)))
    out_state, rec = _sharded_chunk(spec, tspec, n_epochs, axes)(st, hp_s, data_s)
    return jax.tree.map(lambda x: _merge(x, P), (out_state, rec))


@partial(jax.jit, static_argnames=("spec", "batch_size", "shared"))
def _predict(params, eval_X, future, spec, batch_size, shared):
    def fn(flat, x, fut):
        return _predict_member(flat, x, spec, batch_size, fut)

    axis = None if shared else 0
    return jax.vmap(fn, in_axes=(0, axis, axis))(params, eval_X, future)


def predict(params, eval_X: np.ndarray, spec: ModelSpec, batch_size: int,
            future: np.ndarray | None = None) -> np.ndarray:
    """Predictions (P, Se, H) of every member over ``eval_X`` (shared, or (P, Se, T, F)).

    ``params`` is the parameter pytree with a leading P axis, or the flat (P, n) weights.
    ``future`` ((Se, H - 1, F - 1), or with a leading P like ``eval_X``): a one-step model
    forecasts H steps from each window, fed its own forecasts and these known inputs."""
    if not hasattr(params, "ndim"):
        params = jax.vmap(lambda p: ravel_pytree(p)[0])(params)
    shared = np.ndim(eval_X) == 3
    if future is not None and (spec.stateful or spec.horizon != 1):
        raise ConfigError("recursive forecasts need a stateless one-step model (horizon 1, "
                          "stateful=false).")
    n = params.shape[0]
    size = 1 << max(0, n - 1).bit_length()  # a few program sizes for all population sizes
    params = jnp.concatenate([params, jnp.repeat(params[:1], size - n, axis=0)])
    eval_X = jnp.asarray(eval_X, jnp.float32)
    if future is not None:
        future = jnp.asarray(future, jnp.float32)
    if not shared:
        eval_X = jnp.concatenate([eval_X, jnp.repeat(eval_X[:1], size - n, axis=0)])
        if future is not None:
            future = jnp.concatenate([future, jnp.repeat(future[:1], size - n, axis=0)])
    return np.asarray(_predict(params, eval_X, future, spec, batch_size, shared))[:n]

