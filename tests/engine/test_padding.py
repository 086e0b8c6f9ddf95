"""Narrow members in a wider program (``units=``): each trains as it would alone, and the
units it does not have stay exactly zero."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from lstmtune.engine import ModelSpec, PopulationData, TrainSpec, train_population
from lstmtune.engine._train import HPARAM_DEFAULTS, _embed, init_members, unravel
from lstmtune.errors import ConfigError

RNG = np.random.default_rng(1)
X = RNG.normal(size=(12, 3, 2)).astype(np.float32)
Y = (0.4 * X[:, -1, :1] - 0.3 * X[:, 0, 1:]).astype(np.float32)
EVX = RNG.normal(size=(5, 3, 2)).astype(np.float32)
EVY = np.tanh(EVX[:, -1, :1]).astype(np.float32)
DATA = PopulationData(X, Y, np.ones(12, bool), EVX, EVY)
WIDE = ModelSpec(units=(8, 4), timesteps=3, n_features=2)
OWN = [(1, 1), (3, 2)]


def _hp(n, **kw):
    return {k: np.full(n, kw.get(k, v), np.float32) for k, v in HPARAM_DEFAULTS.items()}


@pytest.mark.parametrize("optimizer,extra", [
    ("adam", {"dropout": 0.2, "recurrent_dropout": 0.3, "l1": 1e-3, "l2": 1e-3}),
    ("rmsprop", {"l1": 1e-3}),  # l1's gradient at 0 must be 0, as in TensorFlow
])
def test_padded_members_equal_their_own_narrow_runs(optimizer, extra):
    dropout = bool(extra.get("dropout"))
    tspec = TrainSpec(epochs=6, batch_size=5, optimizer=optimizer, dropout=dropout)
    seeds = np.array([11, 12])
    hp = _hp(2, learning_rate=0.02, **extra)
    wide = train_population(WIDE, tspec, DATA, seeds=seeds, hparams=hp, units=np.array(OWN))
    for i, own in enumerate(OWN):
        alone = train_population(ModelSpec(units=own, timesteps=3, n_features=2), tspec, DATA,
                                 seeds=seeds[i:i + 1], hparams={k: v[i:i + 1]
                                                               for k, v in hp.items()})
        np.testing.assert_allclose(wide.predictions[i], alone.predictions[0], rtol=2e-5,
                                   atol=2e-6)
        np.testing.assert_allclose(wide.train_loss[i], alone.train_loss[0], rtol=2e-5)
        for layer, (u, U) in enumerate(zip(own, WIDE.units, strict=True)):
            w = wide.params["layers"][layer]
            gates = np.asarray(w["U"][i]).reshape(U, 4, U)  # rows: from unit; (gate, to unit)
            assert not gates[u:].any() and not gates[:, :, u:].any()  # exact zeros
            assert not np.asarray(w["b"][i]).reshape(4, U)[:, u:].any()
        assert not np.asarray(wide.params["Wd"][i])[own[-1]:].any()


def test_embedding_places_each_gate_block_by_hand():
    small = ModelSpec(units=(1,), timesteps=1, n_features=1)
    big = ModelSpec(units=(2,), timesteps=1, n_features=1)
    # ravel_pytree sorts dict keys: Wd (1), bd (2), then layer 0's U (3-6), W (7-10), b (11-14)
    flat = np.arange(1, 15, dtype=np.float32)[None]
    tree = jax.vmap(unravel(big))(_embed(flat, small, big))
    layer = tree["layers"][0]
    # gate blocks [i, f, c, o] of width 2: each small gate lands in its block's first unit
    np.testing.assert_array_equal(layer["U"][0], [[3, 0, 4, 0, 5, 0, 6, 0], [0] * 8])
    np.testing.assert_array_equal(layer["W"][0], [[7, 0, 8, 0, 9, 0, 10, 0]])
    np.testing.assert_array_equal(layer["b"][0], [11, 0, 12, 0, 13, 0, 14, 0])
    np.testing.assert_array_equal(tree["Wd"][0], [[1], [0]])
    np.testing.assert_array_equal(tree["bd"][0], [2])


def test_units_wider_than_the_program_are_rejected():
    with pytest.raises(ConfigError, match="member units"):
        init_members(WIDE, TrainSpec(epochs=1), np.array([1]), _hp(1),
                     units=np.array([[9, 1]]))
