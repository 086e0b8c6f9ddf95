"""The LSTM cell against the Keras equations written independently in numpy."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from lstmtune.engine import ModelSpec, forward, init_params


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def _numpy_lstm(params, x, ract):
    """Keras LSTM (gate order i, f, c, o) + Dense, one sample, zero initial state."""
    h_in = np.asarray(x, dtype=np.float64)
    for layer in params["layers"]:
        W, U, b = (np.asarray(layer[k], np.float64) for k in ("W", "U", "b"))
        u = U.shape[0]
        h, c, outs = np.zeros(u), np.zeros(u), []
        for t in range(h_in.shape[0]):
            z = h_in[t] @ W + h @ U + b
            i, f, g, o = ract(z[:u]), ract(z[u:2 * u]), np.tanh(z[2 * u:3 * u]), ract(z[3 * u:])
            c = f * c + i * g
            h = o * np.tanh(c)
            outs.append(h)
        h_in = np.array(outs)
    return h_in[-1] @ np.asarray(params["Wd"]) + np.asarray(params["bd"])


@pytest.mark.parametrize("ract_name,ract", [("sigmoid", _sigmoid), ("hard_sigmoid", _hard_sigmoid)])
def test_forward_matches_the_keras_equations(ract_name, ract):
    spec = ModelSpec(units=(3, 2), timesteps=4, n_features=2, horizon=2,
                     recurrent_activation=ract_name)
    params = init_params(jax.random.PRNGKey(0), spec)
    x = np.random.default_rng(1).normal(size=(4, 2)).astype(np.float32)
    state = [(np.zeros(u, np.float32), np.zeros(u, np.float32)) for u in spec.units]
    ours, _ = forward(params, x, state, spec)
    np.testing.assert_allclose(np.asarray(ours), _numpy_lstm(params, x, ract), rtol=1e-5,
                               atol=1e-6)


def test_keras_initialisation():
    spec = ModelSpec(units=(5,), timesteps=1, n_features=3, horizon=1)
    p = init_params(jax.random.PRNGKey(3), spec)["layers"][0]
    b = np.asarray(p["b"])
    np.testing.assert_array_equal(b, np.r_[np.zeros(5), np.ones(5), np.zeros(10)])
    U = np.asarray(p["U"])  # (5, 20) orthogonal rows
    np.testing.assert_allclose(U @ U.T, np.eye(5), atol=1e-5)
    limit = np.sqrt(6 / (3 + 20))
    assert np.abs(np.asarray(p["W"])).max() <= limit
