"""Population training against independent references: a per-member Python loop over optax
steps, single-member runs, separate trainings for snapshots and early stopping."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from lstmtune.engine import ModelSpec, PopulationData, TrainSpec, forward, train_population
from lstmtune.engine._lstm import init_params
from lstmtune.errors import ConfigError

SPEC = ModelSpec(units=(3,), timesteps=2, n_features=2, horizon=2)
RNG = np.random.default_rng(0)
X = RNG.normal(size=(10, 2, 2)).astype(np.float32)
Y = (X[:, -1, :1] * 0.5 + X[:, 0, 1:] * 0.2).repeat(2, axis=1).astype(np.float32)
EVX = RNG.normal(size=(6, 2, 2)).astype(np.float32)
EVY = np.tanh(EVX[:, -1, :1]).repeat(2, axis=1).astype(np.float32)
DATA = PopulationData(X, Y, np.ones(10, bool), EVX, EVY)
SEEDS = np.array([3, 4, 5, 6])
LRS = np.array([1e-3, 1e-2, 5e-2, 2e-3], np.float32)


def _reference(seed: int, lr: float, epochs: int, batch: int) -> dict:
    """One member, one Python step at a time, optax.adam as documented (Keras epsilon)."""
    k_init, _ = jax.random.split(jax.random.PRNGKey(seed))
    params = init_params(k_init, SPEC)
    opt = optax.adam(lr, b1=0.9, b2=0.999, eps=1e-7)
    opt_state = opt.init(params)
    zero = [(jnp.zeros(u), jnp.zeros(u)) for u in SPEC.units]

    def loss_fn(p, xb, yb):
        preds = jnp.stack([forward(p, x, zero, SPEC)[0] for x in xb])
        return jnp.mean((preds - yb) ** 2)

    grad = jax.jit(jax.grad(loss_fn))
    for _ in range(epochs):
        for start in range(0, len(X), batch):  # the last batch is partial (10 = 4 + 4 + 2)
            g = grad(params, X[start:start + batch], Y[start:start + batch])
            updates, opt_state = opt.update(g, opt_state, params)
            params = optax.apply_updates(params, updates)
    return params


def test_population_equals_a_per_member_python_loop():
    tspec = TrainSpec(epochs=6, batch_size=4, shuffle=False)
    res = train_population(SPEC, tspec, DATA, seeds=SEEDS, hparams={"learning_rate": LRS})
    for i, (seed, lr) in enumerate(zip(SEEDS, LRS, strict=True)):
        ref = _reference(int(seed), float(lr), 6, 4)
        for a, b in zip(jax.tree.leaves(ref), jax.tree.leaves(res.params), strict=True):
            np.testing.assert_allclose(np.asarray(b)[i], np.asarray(a), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shuffle,dropout", [(True, False), (True, True)])
def test_population_equals_separate_single_member_runs(shuffle, dropout):
    tspec = TrainSpec(epochs=5, batch_size=4, shuffle=shuffle, dropout=dropout, patience=None)
    hp = {"learning_rate": LRS, "dropout": 0.2 if dropout else 0.0}
    together = train_population(SPEC, tspec, DATA, seeds=SEEDS, hparams=hp)
    for i in range(len(SEEDS)):
        alone = train_population(SPEC, tspec, DATA, seeds=SEEDS[i:i + 1],
                                 hparams={"learning_rate": LRS[i:i + 1],
                                          "dropout": hp["dropout"]})
        np.testing.assert_allclose(together.predictions[i], alone.predictions[0], atol=1e-5)
        np.testing.assert_allclose(together.train_loss[i], alone.train_loss[0], rtol=1e-5)


def test_determinism_under_a_seed():
    tspec = TrainSpec(epochs=5, batch_size=4)
    a = train_population(SPEC, tspec, DATA, seeds=SEEDS)
    b = train_population(SPEC, tspec, DATA, seeds=SEEDS)
    np.testing.assert_array_equal(a.predictions, b.predictions)
    assert not np.allclose(a.predictions[0], a.predictions[1])  # seeds differ -> members differ


def test_snapshots_equal_separate_shorter_trainings():
    long = train_population(SPEC, TrainSpec(epochs=12, batch_size=4, snapshots=(4, 8)), DATA,
                            seeds=SEEDS)
    for e in (4, 8):
        short = train_population(SPEC, TrainSpec(epochs=e, batch_size=4), DATA, seeds=SEEDS)
        np.testing.assert_allclose(long.snapshots[e], short.predictions, atol=1e-6)


def test_early_stopped_members_stop_changing_and_restore_their_best_epoch():
    tspec = TrainSpec(epochs=40, batch_size=4, patience=3, shuffle=False)
    lrs = np.array([0.3, 0.3, 1e-4, 0.3], np.float32)  # large steps overfit the tiny problem
    res = train_population(SPEC, tspec, DATA, seeds=SEEDS, hparams={"learning_rate": lrs})
    stopped = np.flatnonzero(res.early_stopped)
    assert stopped.size, "expected at least one member to stop early"
    for i in stopped:
        n = res.epochs_trained[i]
        assert n < 40 and np.isnan(res.train_loss[i, n:]).all()
        assert np.isfinite(res.train_loss[i, :n]).all()
        assert res.best_epoch[i] == n - 3  # patience 3 epochs without improvement
        again = train_population(SPEC, TrainSpec(epochs=int(res.best_epoch[i]), batch_size=4,
                                                 shuffle=False), DATA,
                                 seeds=SEEDS[i:i + 1], hparams={"learning_rate": lrs[i:i + 1]})
        np.testing.assert_allclose(res.predictions[i], again.predictions[0], atol=1e-5)
    assert list(res.status[stopped]) == ["early_stopped"] * stopped.size


def test_a_diverging_member_fails_alone():
    Xp = np.stack([X] * 3)
    Xp[1, 4, 0, 0] = np.nan  # poison member 1's data: its first epoch's loss is NaN
    per_member = PopulationData(Xp, np.stack([Y] * 3), np.ones((3, 10), bool),
                                np.stack([EVX] * 3), np.stack([EVY] * 3))
    tspec = TrainSpec(epochs=5, batch_size=4, shuffle=False)
    res = train_population(SPEC, tspec, per_member, seeds=SEEDS[:3])
    assert list(res.failed) == [False, True, False]
    assert res.fail_epoch[1] == 1 and "epoch 1" in res.fail_reason[1]
    assert list(res.status) == ["complete", "failed", "complete"]
    clean = train_population(SPEC, tspec, DATA, seeds=SEEDS[[0, 2]])
    np.testing.assert_allclose(res.predictions[[0, 2]], clean.predictions, atol=1e-6)


def test_huge_learning_rate_diverges_only_its_member():
    tspec = TrainSpec(epochs=30, batch_size=4, optimizer="sgd", shuffle=False)
    lrs = np.array([1e-2, 1e6, 1e-2], np.float32)
    res = train_population(SPEC, tspec, DATA, seeds=SEEDS[:3], hparams={"learning_rate": lrs})
    assert list(res.failed) == [False, True, False]
    assert np.isfinite(res.predictions[[0, 2]]).all()


def test_pruning_from_outside_stops_members_between_chunks():
    tspec = TrainSpec(epochs=20, batch_size=4)
    res = train_population(SPEC, tspec, DATA, seeds=SEEDS, max_chunk=5,
                           on_chunk=lambda done, view: np.array([True, False, False, False]))
    assert res.epochs_trained.tolist() == [5, 20, 20, 20]
    assert list(res.status) == ["pruned", "complete", "complete", "complete"]


def test_bad_hyperparameters_are_rejected():
    with pytest.raises(ConfigError, match="dropout"):
        train_population(SPEC, TrainSpec(epochs=1), DATA, seeds=SEEDS, hparams={"dropout": 1.5})
    with pytest.raises(ConfigError, match="unknown per-member"):
        train_population(SPEC, TrainSpec(epochs=1), DATA, seeds=SEEDS, hparams={"lr": 0.1})


def test_recording_every_k_epochs_equals_every_epoch_subsampled():
    every = train_population(SPEC, TrainSpec(epochs=8, batch_size=4, record_predictions=True),
                             DATA, seeds=SEEDS)
    sparse = train_population(SPEC, TrainSpec(epochs=8, batch_size=4, record_predictions=True,
                                              record_every=4), DATA, seeds=SEEDS)
    assert every.history_predictions.shape == (4, 8, 6, 2)
    assert sparse.history_predictions.shape == (4, 2, 6, 2)
    np.testing.assert_allclose(sparse.history_predictions, every.history_predictions[:, 3::4],
                               atol=1e-6)
    np.testing.assert_allclose(sparse.train_loss, every.train_loss, rtol=1e-6)


def test_odd_population_sizes_split_across_devices_match_single_runs():
    # 3 members over the CPU devices (padded when the count does not divide)
    tspec = TrainSpec(epochs=3, batch_size=4)
    three = train_population(SPEC, tspec, DATA, seeds=SEEDS[:3])
    for i in range(3):
        alone = train_population(SPEC, tspec, DATA, seeds=SEEDS[i:i + 1])
        np.testing.assert_allclose(three.predictions[i], alone.predictions[0], atol=1e-5)


def test_a_run_whose_members_all_stopped_ends_early_with_frozen_snapshots():
    tspec = TrainSpec(epochs=20, batch_size=4, snapshots=(10,), record_predictions=True)
    res = train_population(SPEC, tspec, DATA, seeds=SEEDS, max_chunk=5,
                           on_chunk=lambda done, view: np.ones(4, bool))  # stop all at 5
    assert res.epochs_trained.tolist() == [5] * 4
    np.testing.assert_allclose(res.snapshots[10], res.predictions)
    assert res.history_predictions.shape[1] == 20
    np.testing.assert_allclose(res.history_predictions[:, -1], res.predictions)


def test_release_programs_drops_compiled_programs_past_the_mapping_limit():
    from lstmtune.engine import release_programs

    f = jax.jit(lambda x: jnp.tanh(x).sum())
    f(jnp.ones(3)).block_until_ready()
    assert f._cache_size() == 1
    assert release_programs(max_mappings=10**9) is False  # far below: nothing dropped
    assert f._cache_size() == 1
    assert release_programs(max_mappings=0) is True
    assert f._cache_size() == 0
    assert float(f(jnp.ones(3))) == pytest.approx(3 * np.tanh(1.0))  # compiled again
