"""A Keras-faithful LSTM as pure functions, written for ONE sample and vectorised by the caller.

Gate order and initialisation follow Keras: kernels are split [input, forget, cell, output];
glorot-uniform input kernels, orthogonal recurrent kernels, zero biases with the forget-gate
bias set to 1 (``unit_forget_bias``), and a glorot-uniform Dense head of H outputs.

Axes: T time steps, F features, U units, H horizon (outputs).  Parameters are a dict pytree:
``{"layers": [{"W": (F_in, 4U), "U": (U, 4U), "b": (4U,)}, ...], "Wd": (U, H), "bd": (H,)}``,
plus ``"E": (V, D)`` for token inputs (an embedding of a vocabulary of V ids, D wide).

Sequences of different lengths (classification, seed 003) travel padded in one array and are
*masked*: a padded step (token id 0, ``PAD``, or a NaN value) leaves every layer's state as it
was, so the head reads the state after each sequence's last real step, wherever the padding
is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from lstmtune.errors import ConfigError

__all__ = ["ModelSpec", "init_params", "forward", "zero_state", "ACTIVATIONS", "WINDOW_NORMS",
           "n_params",
           "param_shapes", "flatten_params", "nest_params", "input_width", "embed_inputs"]


def hard_sigmoid(x: jax.Array) -> jax.Array:
    """Keras 2's hard_sigmoid: clip(0.2 x + 0.5, 0, 1) (the tutorial's recurrent default)."""
    return jnp.clip(0.2 * x + 0.5, 0.0, 1.0)


WINDOW_NORMS = ("none", "last", "level")
ACTIVATIONS = {"tanh": jnp.tanh, "relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid,
               "hard_sigmoid": hard_sigmoid, "linear": lambda x: x}


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """The static structure of a model: members with equal specs share one compiled program."""

    units: tuple[int, ...] = (1,)  # units of each stacked LSTM layer
    timesteps: int = 1  # T
    n_features: int = 1  # F
    horizon: int = 1  # H outputs of the Dense head (direct multi-step)
    activation: str = "tanh"  # cell and output activation
    recurrent_activation: str = "sigmoid"  # gates; "hard_sigmoid" for Keras 2.0 fidelity
    stateful: bool = False  # Keras stateful semantics (state carried across batches)
    vocab_size: int = 0  # > 0: x[:, 0] holds token ids < vocab_size (0 = padding), embedded
    embed_dim: int = 0  # the embedding's width (with vocab_size)
    masked: bool = False  # padded steps (id 0, or NaN in the first column) keep the state
    bidirectional: bool = False  # each layer also reads the sequence backwards (Keras'
    # Bidirectional, outputs concatenated; its own weights Wb, Ub, bb)
    # "last": each window's target column (x[:, 0]) is taken relative to its last value,
    # which the outputs are added back to (Hewamalage et al.'s per-window normalisation; in
    # log space a division); "level": relative to the last row of the last column, the
    # target's exponential-smoothing level (ES-RNN's normaliser; the data puts it there)
    window_norm: str = "none"

    def __post_init__(self) -> None:
        if self.bidirectional and self.stateful:
            raise ConfigError("a bidirectional LSTM reads each sequence whole, so it cannot be "
                              "stateful: set stateful=false or bidirectional=false.")
        if self.vocab_size < 0 or (self.vocab_size > 0) != (self.embed_dim > 0):
            raise ConfigError(f"vocab_size and embed_dim must both be >= 1 (token inputs) or "
                              f"both 0, got {self.vocab_size} and {self.embed_dim}.")
        if not self.units or any(u < 1 for u in self.units):
            raise ConfigError(f"units must be one positive count per layer, got {self.units}.")
        for name in ("timesteps", "n_features", "horizon"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}.")
        if self.window_norm not in WINDOW_NORMS:
            raise ConfigError(f"window_norm must be one of {', '.join(WINDOW_NORMS)}, got "
                              f"{self.window_norm!r}.")
        if self.window_norm == "level" and self.n_features < 2:
            raise ConfigError("window_norm='level' reads the level from the last input "
                              "column, beside the target's: n_features must be >= 2.")
        if self.window_norm != "none" and (self.vocab_size or self.masked):
            raise ConfigError("window_norm applies to forecasts, not to classified sequences: "
                              "set window_norm='none'.")
        for name in ("activation", "recurrent_activation"):
            if getattr(self, name) not in ACTIVATIONS:
                raise ConfigError(f"{name} must be one of {', '.join(ACTIVATIONS)}, got "
                                  f"{getattr(self, name)!r}.")


def param_shapes(spec: ModelSpec) -> dict[str, tuple[int, ...]]:
    """The parameter layout of one member, the one place it is written: every weight's
    dotted name (``layers.0.W``, ..., ``Wd``, ``bd``) and shape, in Keras' gate order."""
    out, f_in = {}, input_width(spec)
    if spec.vocab_size:
        out["E"] = (spec.vocab_size, spec.embed_dim)
    for i, u in enumerate(spec.units):
        out |= {f"layers.{i}.W": (f_in, 4 * u), f"layers.{i}.U": (u, 4 * u),
                f"layers.{i}.b": (4 * u,)}
        if spec.bidirectional:
            out |= {f"layers.{i}.Wb": (f_in, 4 * u), f"layers.{i}.Ub": (u, 4 * u),
                    f"layers.{i}.bb": (4 * u,)}
        f_in = 2 * u if spec.bidirectional else u
    return out | {"Wd": (f_in, spec.horizon), "bd": (spec.horizon,)}


def input_width(spec: ModelSpec) -> int:
    """The width of the first LSTM layer's input: the embedding's, or the features'."""
    return spec.embed_dim if spec.vocab_size else spec.n_features


def flatten_params(params: dict) -> dict:
    """The parameter pytree as ``{dotted name: array}`` (names of :func:`param_shapes`)."""
    out = {f"layers.{i}.{k}": v for i, layer in enumerate(params["layers"])
           for k, v in layer.items()}
    out |= {"Wd": params["Wd"], "bd": params["bd"]}
    return out | ({"E": params["E"]} if "E" in params else {})


def nest_params(arrays: dict) -> dict:
    """The inverse of :func:`flatten_params`."""
    n = sum(1 for k in arrays if k.startswith("layers.") and k.endswith(".W"))
    names = ("W", "U", "b", "Wb", "Ub", "bb")
    layers = [{k: arrays[f"layers.{i}.{k}"] for k in names if f"layers.{i}.{k}" in arrays}
              for i in range(n)]
    out = {"layers": layers, "Wd": arrays["Wd"], "bd": arrays["bd"]}
    return out | ({"E": arrays["E"]} if "E" in arrays else {})


def n_params(spec: ModelSpec) -> int:
    """Weights of one member of ``spec``."""
    return sum(math.prod(shape) for shape in param_shapes(spec).values())


def _glorot(key: jax.Array, shape: tuple[int, int]) -> jax.Array:
    limit = jnp.sqrt(6.0 / (shape[0] + shape[1]))
    return jax.random.uniform(key, shape, minval=-limit, maxval=limit)


def _orthogonal(key: jax.Array, shape: tuple[int, int]) -> jax.Array:
    """Keras Orthogonal: QR of a normal matrix, sign-corrected, of the (rows, cols) shape."""
    rows, cols = shape
    flat = jax.random.normal(key, (max(rows, cols), min(rows, cols)))
    q, r = jnp.linalg.qr(flat)
    q = q * jnp.sign(jnp.diag(r))
    return q.T if rows < cols else q


def init_params(key: jax.Array, spec: ModelSpec) -> dict:
    """Keras default initialisation for one member, in the layout of :func:`param_shapes`."""
    shapes = param_shapes(spec)
    keys = jax.random.split(key, 2 * len(spec.units) + 1)
    out = {"Wd": _glorot(keys[-1], shapes["Wd"]), "bd": jnp.zeros(shapes["bd"])}
    for i, u in enumerate(spec.units):
        out[f"layers.{i}.W"] = _glorot(keys[2 * i], shapes[f"layers.{i}.W"])
        out[f"layers.{i}.U"] = _orthogonal(keys[2 * i + 1], shapes[f"layers.{i}.U"])
        out[f"layers.{i}.b"] = jnp.zeros(shapes[f"layers.{i}.b"]).at[u:2 * u].set(1.0)
        if spec.bidirectional:  # the backward layer's own keys: forward weights unchanged
            kw, ku = jax.random.split(jax.random.fold_in(key, 1000 + i))
            out[f"layers.{i}.Wb"] = _glorot(kw, shapes[f"layers.{i}.Wb"])
            out[f"layers.{i}.Ub"] = _orthogonal(ku, shapes[f"layers.{i}.Ub"])
            out[f"layers.{i}.bb"] = out[f"layers.{i}.b"]
    if spec.vocab_size:  # Keras' Embedding: uniform(-0.05, 0.05), from its own key (models
        # without an embedding keep their weights); row r from (key, r) alone, so a member
        # in a program with a larger vocabulary gets the rows it would get alone
        k_emb = jax.random.fold_in(key, 7)
        out["E"] = jax.vmap(lambda r: jax.random.uniform(
            jax.random.fold_in(k_emb, r), (spec.embed_dim,), minval=-0.05, maxval=0.05))(
            jnp.arange(spec.vocab_size))
    return nest_params(out)  # b: unit_forget_bias


def zero_state(spec: ModelSpec) -> list[tuple[jax.Array, jax.Array]]:
    return [(jnp.zeros((u,)), jnp.zeros((u,))) for u in spec.units]


def _layer(p: dict, xs: jax.Array, state: tuple[jax.Array, jax.Array], act, ract,
           in_mask: jax.Array | None, rec_mask: jax.Array | None,
           steps: jax.Array | None = None):
    """One LSTM layer over xs (T, F_in); ``steps`` (T,) bool marks real steps (the others
    keep the state and repeat it as their output)."""
    if in_mask is not None:
        xs = xs * in_mask
    xw = xs @ p["W"] + p["b"]  # (T, 4U): the input projection of all steps at once
    u = p["U"].shape[0]

    def step(carry, inp):
        h, c = carry
        xw_t, real = inp
        hr = h if rec_mask is None else h * rec_mask
        z = xw_t + hr @ p["U"]
        i, f, g, o = z[:u], z[u:2 * u], z[2 * u:3 * u], z[3 * u:]
        c_new = ract(f) * c + ract(i) * act(g)
        h_new = ract(o) * act(c_new)
        if real is not None:
            h_new, c_new = jnp.where(real, h_new, h), jnp.where(real, c_new, c)
        return (h_new, c_new), h_new

    # unroll=1: unrolling makes XLA fuse the gate gradients of several steps into huge
    # loops that recompute the cell-state chain (measured 1.6-1.7x slower at 64 units)
    (h, c), hs = jax.lax.scan(step, state, (xw, steps), unroll=1)
    return hs, (h, c)


def embed_inputs(params: dict, x: jax.Array, spec: ModelSpec
                 ) -> tuple[jax.Array, jax.Array | None]:
    """One sample's first-layer inputs (T, F_in) and real-step flags (T,) or None: token ids
    embedded, NaN padding zeroed (a NaN times 0 would still poison the gradients)."""
    if spec.vocab_size:
        ids = x[:, 0].astype(jnp.int32)
        return params["E"][ids], ids > 0
    if spec.masked:
        real = jnp.isfinite(x[:, 0])
        return jnp.where(jnp.isfinite(x), x, 0.0), real
    return x, None


def forward(params: dict, x: jax.Array, state: list, spec: ModelSpec,
            masks: list | None = None) -> tuple[jax.Array, list]:
    """One sample: x (T, F) and per-layer (h, c) → (H,) outputs and the final states (after
    the last real step of a masked sequence).

    ``masks`` holds per-layer (input mask, recurrent mask) for dropout, or None.
    """
    act = ACTIVATIONS[spec.activation]
    ract = ACTIVATIONS[spec.recurrent_activation]
    level = None
    if spec.window_norm == "last":  # the window relative to its last target value
        level = x[-1, 0]
        x = jnp.asarray(x).at[:, 0].add(-level)
    elif spec.window_norm == "level":  # relative to the smoothed level, the last column
        level = x[-1, -1]
        x = jnp.asarray(x).at[:, 0].add(-level).at[:, -1].add(-level)
    hs, steps = embed_inputs(params, x, spec)
    new_state = []
    last = None
    for i, p in enumerate(params["layers"]):
        in_mask, rec_mask = masks[i] if masks is not None else (None, None)
        out, st = _layer(p, hs, state[i], act, ract, in_mask, rec_mask, steps)
        new_state.append(st)
        last = out[-1]
        if spec.bidirectional:  # the same inputs read from the end (padding masked as well)
            back = {"W": p["Wb"], "U": p["Ub"], "b": p["bb"]}
            zero = (jnp.zeros_like(st[0]), jnp.zeros_like(st[1]))
            rev, _ = _layer(back, hs[::-1], zero, act, ract, in_mask, rec_mask,
                            None if steps is None else steps[::-1])
            out = jnp.concatenate([out, rev[::-1]], axis=-1)
            last = jnp.concatenate([last, rev[-1]])  # backward: after the first real step
        hs = out
    out = last @ params["Wd"] + params["bd"]
    return (out if level is None else out + level), new_state
