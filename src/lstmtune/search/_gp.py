"""Bayesian optimisation on scikit-learn: a Gaussian process and expected improvement.

Optuna's own ``GPSampler`` needs PyTorch; this one follows Keras Tuner's
``BayesianOptimization`` instead: a :class:`~sklearn.gaussian_process.GaussianProcessRegressor`
with ``ConstantKernel * Matern(nu=2.5) + WhiteKernel`` (``normalize_y=True``) fitted on the
completed trials, and the next candidate is the one of many random and locally perturbed points
with the largest expected improvement (EI).

Parameters are encoded into the unit cube (:class:`UnitEncoding`): a number range maps to
[0, 1] (on a log scale when ``log=True``; an int or stepped range is widened by half a step at
each end so every grid point owns an equal share), a choice list becomes a one-hot block.
Candidates are snapped onto valid values (grid, ints, one-hot) before EI is computed, so the
GP is only asked about points that can actually be run.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from lstmtune.errors import ConfigError

__all__ = ["GPSampler", "UnitEncoding", "expected_improvement"]

_N_BEST = 5  # local perturbations are drawn around this many best points
_LOCAL_SCALES = (0.02, 0.1)  # their standard deviations in the unit cube


def expected_improvement(mu: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.0
                         ) -> np.ndarray:
    """EI of a minimisation at points with posterior mean ``mu`` and std ``sigma``.

    ``EI = (best - mu - xi) Phi(z) + sigma phi(z)``, ``z = (best - mu - xi) / sigma``; where
    ``sigma == 0`` it is ``max(best - mu - xi, 0)``.
    """
    mu, sigma = np.asarray(mu, float), np.asarray(sigma, float)
    imp = best - mu - xi
    safe = np.where(sigma > 0, sigma, 1.0)
    z = imp / safe
    ei = imp * norm.cdf(z) + safe * norm.pdf(z)
    return np.where(sigma > 0, np.maximum(ei, 0.0), np.maximum(imp, 0.0))


class UnitEncoding:
    """A search space as columns of the unit cube (numbers: one column; choices: one-hot).

    ``encode(params) -> (D,)``, ``decode(x (D,)) -> params``, ``snap(X (N, D)) -> (N, D)``
    (each row replaced by the encoding of the valid point it decodes to).
    """

    def __init__(self, space: dict[str, BaseDistribution]) -> None:
        self.names = list(space)
        self.dists = [space[n] for n in self.names]
        self.slices: list[slice] = []
        start = 0
        for d in self.dists:
            width = len(d.choices) if isinstance(d, CategoricalDistribution) else 1
            self.slices.append(slice(start, start + width))
            start += width
        self.dim = start

    @staticmethod
    def _bounds(d: FloatDistribution | IntDistribution) -> tuple[float, float]:
        half = 0.5 * d.step if d.step is not None else 0.0
        lo, hi = d.low - half, d.high + half
        return (np.log(lo), np.log(hi)) if d.log else (lo, hi)

    def _to_unit(self, d: Any, v: np.ndarray) -> np.ndarray:
        lo, hi = self._bounds(d)
        t = np.log(v) if d.log else v
        return (t - lo) / (hi - lo)

    def _from_unit(self, d: Any, u: np.ndarray) -> np.ndarray:
        lo, hi = self._bounds(d)
        t = lo + np.clip(u, 0.0, 1.0) * (hi - lo)
        v = np.exp(t) if d.log else t
        if d.step is not None:
            v = d.low + np.round((v - d.low) / d.step) * d.step
        return np.clip(v, d.low, d.high)

    def encode(self, params: dict[str, Any]) -> np.ndarray:
        x = np.zeros(self.dim)
        for name, d, sl in zip(self.names, self.dists, self.slices, strict=True):
            if isinstance(d, CategoricalDistribution):
                x[sl.start + d.to_internal_repr(params[name])] = 1.0
            else:
                x[sl] = self._to_unit(d, np.float64(params[name]))
        return x

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, d, sl in zip(self.names, self.dists, self.slices, strict=True):
            if isinstance(d, CategoricalDistribution):
                out[name] = d.choices[int(np.argmax(x[sl]))]
            else:
                v = float(self._from_unit(d, np.float64(x[sl][0])))
                out[name] = int(round(v)) if isinstance(d, IntDistribution) else v
        return out

    def snap(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, float)
        for d, sl in zip(self.dists, self.slices, strict=True):
            if isinstance(d, CategoricalDistribution):
                block = np.zeros_like(X[:, sl])
                block[np.arange(len(X)), np.argmax(X[:, sl], axis=1)] = 1.0
                X[:, sl] = block
            else:
                v = self._from_unit(d, X[:, sl.start])
                if isinstance(d, IntDistribution):
                    v = np.round(v)
                X[:, sl.start] = self._to_unit(d, v)
        return X


class GPSampler(BaseSampler):
    """Gaussian-process Bayesian optimisation with expected improvement, on scikit-learn.

    Args:
        n_startup_trials: complete trials sampled at random before the GP takes over.
        seed: makes the whole study reproducible (a resumed study continues as it would have).
        n_candidates: random candidates per trial; as many again are drawn as perturbations of
            the best few points, and the candidate with the largest EI is proposed.
        xi: EI's exploration margin, in standard deviations of the observed values.

    Batches: trials that are RUNNING and already have their parameters enter the GP with the
    worst value observed so far (a *constant liar*), so the candidates of one batch differ.
    FAIL and PRUNED trials are ignored.  With fewer than two complete trials, or when all
    their values are equal, parameters are sampled at random.  ``direction="maximize"`` is
    handled by negating the values.
    """

    def __init__(self, *, n_startup_trials: int = 10, seed: int | None = None,
                 n_candidates: int = 2000, xi: float = 0.01) -> None:
        _check_int("n_startup_trials", n_startup_trials, 0)
        _check_int("n_candidates", n_candidates, 1)
        if not (isinstance(xi, int | float) and np.isfinite(xi) and xi >= 0):
            raise ConfigError(f"GPSampler: xi must be a finite number >= 0, got xi={xi!r}; "
                              "use e.g. xi=0.01.")
        if seed is not None and not isinstance(seed, int):
            raise ConfigError(f"GPSampler: seed must be an int or None, got seed={seed!r}.")
        self._n_startup = n_startup_trials
        self._n_candidates = n_candidates
        self._xi = float(xi)
        self._seed = seed if seed is not None else int(np.random.SeedSequence().entropy % 2**63)
        self._random = RandomSampler(seed=seed)
        self._space = IntersectionSearchSpace()

    def reseed_rng(self) -> None:
        self._random.reseed_rng()
        self._seed = int(np.random.SeedSequence().entropy % 2**63)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial
                                    ) -> dict[str, BaseDistribution]:
        if study._is_multi_objective():
            raise ConfigError("GPSampler: the study must have one objective, got "
                              f"{len(study.directions)}; use one direction or another sampler.")
        return {n: d for n, d in self._space.calculate(study).items() if not d.single()}

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if not search_space:
            return {}
        trials = study.get_trials(deepcopy=False,
                                  states=(TrialState.COMPLETE, TrialState.RUNNING))
        done = [t for t in trials if t.state == TrialState.COMPLETE
                and _has(t, search_space) and np.isfinite(t.value)]
        if len(done) < max(self._n_startup, 2):
            return {}
        sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
        y = sign * np.array([t.value for t in done])
        if np.ptp(y) == 0:
            return {}
        running = [t for t in trials if t.state == TrialState.RUNNING
                   and t.number != trial.number and _has(t, search_space)]
        enc = UnitEncoding(search_space)
        X = np.array([enc.encode(t.params) for t in done + running])
        y_all = np.concatenate([y, np.full(len(running), y.max())])
        rng = np.random.default_rng([self._seed, trial.number])
        gp = _fit_gp(X, y_all, int(rng.integers(2**31)))

        cand = self._candidates(enc, X[:len(done)][np.argsort(y)[:_N_BEST]], rng)
        seen = (np.abs(cand[:, None, :] - X[None, :, :]).max(axis=2) < 1e-9).any(axis=1)
        if seen.all():
            return {}
        cand = cand[~seen]
        mu, sd = gp.predict(cand, return_std=True)
        ei = expected_improvement(mu, sd, float(y.min()), self._xi * float(np.std(y)))
        return enc.decode(cand[int(np.argmax(ei))])

    def _candidates(self, enc: UnitEncoding, best: np.ndarray, rng: np.random.Generator
                    ) -> np.ndarray:
        """(N, D) snapped candidates: uniform points, then Gaussian steps around ``best``."""
        uniform = rng.uniform(size=(self._n_candidates, enc.dim))
        per = max(1, self._n_candidates // (len(best) * len(_LOCAL_SCALES)))
        local = [b + rng.normal(scale=s, size=(per, enc.dim)) for b in best for s in _LOCAL_SCALES]
        return enc.snap(np.clip(np.vstack([uniform, *local]), 0.0, 1.0))

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self._random.sample_independent(study, trial, param_name, param_distribution)


def _fit_gp(X: np.ndarray, y: np.ndarray, seed: int) -> GaussianProcessRegressor:
    kernel = (ConstantKernel(1.0, (1e-2, 1e2)) * Matern(0.5, (1e-2, 1e1), nu=2.5)
              + WhiteKernel(1e-2, (1e-6, 1.0)))
    gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=2,
                                  random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(X, y)
    return gp


def _has(t: FrozenTrial, space: dict[str, BaseDistribution]) -> bool:
    """Whether ``t`` drew every parameter of ``space`` from the same distribution."""
    return all(t.distributions.get(n) == d for n, d in space.items())


def _check_int(name: str, value: Any, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ConfigError(f"GPSampler: {name} must be an int >= {low}, got {name}={value!r}.")

