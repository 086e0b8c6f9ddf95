"""Token inputs, masking and cross-entropy: the engine against hand-written numpy."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from lstmtune.engine import (
    ModelSpec,
    PopulationData,
    TrainSpec,
    forward,
    init_params,
    train_population,
)
from tests.engine.test_lstm import _numpy_lstm as keras_lstm
from tests.engine.test_lstm import _sigmoid


def _numpy_lstm(params, rows):
    """test_lstm's Keras LSTM + Dense in numpy, over the given input rows only (no padding)."""
    return keras_lstm(params, rows, _sigmoid)


def _zero(spec):
    return [(np.zeros(u, np.float32), np.zeros(u, np.float32)) for u in spec.units]


@pytest.mark.parametrize("padding", ["post", "pre", "none"])
def test_masked_token_lstm_equals_numpy_over_the_real_tokens_only(padding):
    spec = ModelSpec(units=(4, 3), timesteps=9, n_features=1, horizon=1, vocab_size=12,
                     embed_dim=5, masked=True)
    params = init_params(jax.random.PRNGKey(2), spec)
    real = np.array([3, 7, 1, 11, 2, 5])  # 1 is the out-of-vocabulary id: a real token
    pad = np.zeros(spec.timesteps - real.size, int)
    ids = {"post": np.r_[real, pad], "pre": np.r_[pad, real],
           "none": np.r_[real, [4, 4, 9]]}[padding]
    ours, _ = forward(params, ids[:, None].astype(np.float32), _zero(spec), spec)
    seen = real if padding != "none" else ids
    emb = np.asarray(params["E"])[seen]
    np.testing.assert_allclose(np.asarray(ours), _numpy_lstm(params, emb), rtol=1e-5,
                               atol=1e-6)


def test_nan_padded_numeric_sequences_are_masked():
    spec = ModelSpec(units=(3,), timesteps=7, n_features=2, horizon=3, masked=True)
    params = init_params(jax.random.PRNGKey(5), spec)
    rows = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    x = np.vstack([rows, np.full((3, 2), np.nan, np.float32)])
    ours, _ = forward(params, x, _zero(spec), spec)
    np.testing.assert_allclose(np.asarray(ours), _numpy_lstm(params, rows), rtol=1e-5,
                               atol=1e-6)


def test_the_embedding_has_its_own_key_and_keras_initialiser():
    plain = ModelSpec(units=(4,), timesteps=3, n_features=1)
    tokens = ModelSpec(units=(4,), timesteps=3, n_features=1, vocab_size=50, embed_dim=6,
                       masked=True)
    a, b = init_params(jax.random.PRNGKey(0), plain), init_params(jax.random.PRNGKey(0), tokens)
    assert b["layers"][0]["W"].shape == (6, 16)
    np.testing.assert_array_equal(a["layers"][0]["U"], b["layers"][0]["U"])
    E = np.asarray(b["E"])
    assert E.shape == (50, 6) and np.abs(E).max() <= 0.05


def _toy(n=24, T=6, seed=0):
    """Reviews of token ids: class 1 iff token 3 occurs; lengths 2..T, padded after."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, T, 1), np.float32)
    y = np.zeros((n, 1), np.float32)
    for i in range(n):
        k = rng.integers(2, T + 1)
        toks = rng.choice([2, 4, 5, 6], size=k)
        if i % 2:
            toks[rng.integers(k)] = 3
        X[i, :k, 0] = toks
        y[i] = i % 2
    return X, y


def _train(data, spec, tspec, seeds, hparams):
    return train_population(spec, tspec, data, seeds=np.asarray(seeds), hparams=hparams)


def _spec(**kw):
    return ModelSpec(units=(4,), timesteps=6, n_features=1, horizon=1, vocab_size=8,
                     embed_dim=3, masked=True, **kw)


def test_sample_weights_equal_repeated_samples_in_a_full_batch():
    """Weight 2 on a sample is that sample twice: the weighted mean loss of one full batch."""
    X, y = _toy(n=6)
    w = np.array([2, 1, 1, 3, 1, 1], np.float32)
    Xr, yr = np.repeat(X, w.astype(int), axis=0), np.repeat(y, w.astype(int), axis=0)
    tspec = TrainSpec(epochs=3, batch_size=16, loss="bce", optimizer="sgd", shuffle=False)
    hp = {"learning_rate": 0.5}
    weighted = _train(PopulationData(X, y, w, X, y), _spec(), tspec, [1], hp)
    repeated = _train(PopulationData(Xr, yr, np.ones(len(Xr), bool), X, y), _spec(),
                                tspec, [1], hp)
    np.testing.assert_allclose(weighted.predictions, repeated.predictions, rtol=1e-5,
                               atol=1e-6)


def test_binary_cross_entropy_is_the_logged_loss():
    X, y = _toy()
    tspec = TrainSpec(epochs=1, batch_size=64, loss="bce", optimizer="sgd", shuffle=False)
    r = _train(PopulationData(X, y, np.ones(len(X), bool), X, y), _spec(), tspec,
                         [0], {"learning_rate": 1e-9})
    p = _sigmoid(r.predictions[0, :, 0].astype(np.float64))
    expected = -np.mean(y[:, 0] * np.log(p) + (1 - y[:, 0]) * np.log(1 - p))
    np.testing.assert_allclose(r.train_loss[0, 0], expected, rtol=1e-5)


def test_categorical_cross_entropy_is_the_logged_loss():
    X, y = _toy()
    y3 = (np.arange(len(X)) % 3)[:, None].astype(np.float32)
    tspec = TrainSpec(epochs=1, batch_size=64, loss="cce", optimizer="sgd", shuffle=False)
    r = _train(PopulationData(X, y3, np.ones(len(X), bool), X, y3),
               ModelSpec(units=(4,), timesteps=6, n_features=1, horizon=3, vocab_size=8,
                         embed_dim=3, masked=True), tspec, [0], {"learning_rate": 1e-9})
    z = r.predictions[0].astype(np.float64)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = -np.mean(logp[np.arange(len(X)), y3[:, 0].astype(int)])
    np.testing.assert_allclose(r.train_loss[0, 0], expected, rtol=1e-5)


def test_a_population_of_classifiers_equals_each_member_alone_and_learns():
    X, y = _toy(n=40)
    data = PopulationData(X, y, np.ones(len(X), bool), X, y)
    tspec = TrainSpec(epochs=30, batch_size=8, loss="bce", dropout=True)
    hp = {"learning_rate": np.array([0.05, 0.02, 0.05]),
          "dropout": np.array([0.0, 0.1, 0.2])}
    pop = _train(data, _spec(), tspec, [0, 1, 2], hp)
    for m in range(3):
        alone = _train(data, _spec(), tspec, [m],
                       {k: v[m:m + 1] for k, v in hp.items()})
        np.testing.assert_allclose(pop.predictions[m], alone.predictions[0], rtol=2e-4,
                                   atol=2e-5)
    accuracy = ((pop.predictions[0, :, 0] > 0) == (y[:, 0] > 0.5)).mean()
    assert accuracy >= 0.9


def _numpy_bidirectional(params, rows):
    """Keras Bidirectional(LSTM) layers (outputs concatenated) + Dense, real rows only."""
    def run(W, U, b, seq):
        u = U.shape[0]
        h, c, outs = np.zeros(u), np.zeros(u), []
        for x in seq:
            z = x @ W + h @ U + b
            i, f = _sigmoid(z[:u]), _sigmoid(z[u:2 * u])
            g, o = np.tanh(z[2 * u:3 * u]), _sigmoid(z[3 * u:])
            c = f * c + i * g
            h = o * np.tanh(c)
            outs.append(h)
        return np.array(outs)

    h_in = np.asarray(rows, np.float64)
    for layer in params["layers"]:
        a = {k: np.asarray(v, np.float64) for k, v in layer.items()}
        fwd = run(a["W"], a["U"], a["b"], h_in)
        bwd = run(a["Wb"], a["Ub"], a["bb"], h_in[::-1])[::-1]
        last = np.concatenate([fwd[-1], bwd[0]])
        h_in = np.concatenate([fwd, bwd], axis=1)
    return last @ np.asarray(params["Wd"], np.float64) + np.asarray(params["bd"])


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_a_masked_bidirectional_lstm_equals_numpy_over_the_real_tokens(padding):
    spec = ModelSpec(units=(3, 2), timesteps=8, n_features=1, horizon=2, vocab_size=10,
                     embed_dim=4, masked=True, bidirectional=True)
    params = init_params(jax.random.PRNGKey(4), spec)
    real = np.array([4, 1, 9, 2, 7])
    pad = np.zeros(spec.timesteps - real.size, int)
    ids = np.r_[real, pad] if padding == "post" else np.r_[pad, real]
    ours, _ = forward(params, ids[:, None].astype(np.float32), _zero(spec), spec)
    emb = np.asarray(params["E"])[real]
    np.testing.assert_allclose(np.asarray(ours), _numpy_bidirectional(params, emb),
                               rtol=1e-5, atol=1e-6)
    plain = init_params(jax.random.PRNGKey(4), ModelSpec(
        units=(3, 2), timesteps=8, n_features=1, horizon=2, vocab_size=10, embed_dim=4,
        masked=True))
    np.testing.assert_array_equal(plain["layers"][0]["W"], params["layers"][0]["W"])


def test_a_population_of_bidirectional_classifiers_equals_each_alone():
    X, y = _toy(n=24)
    data = PopulationData(X, y, np.ones(len(X), bool), X, y)
    spec = ModelSpec(units=(4,), timesteps=6, n_features=1, horizon=1, vocab_size=8,
                     embed_dim=3, masked=True, bidirectional=True)
    tspec = TrainSpec(epochs=8, batch_size=8, loss="bce", dropout=True)
    hp = {"learning_rate": np.array([0.05, 0.02]), "dropout": np.array([0.0, 0.2])}
    pop = _train(data, spec, tspec, [0, 1], hp)
    for m in range(2):
        alone = _train(data, spec, tspec, [m], {k: v[m:m + 1] for k, v in hp.items()})
        np.testing.assert_allclose(pop.predictions[m], alone.predictions[0], rtol=2e-4,
                                   atol=2e-5)
