"""Strategies by name.  Each proposes candidates (an Optuna sampler) and holds no loop, I/O or
storage; `hyperband` adds the rungs at which the loop stops the worse part of a population.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import optuna

from lstmtune.errors import ConfigError
from lstmtune.search._config import StudyConfig

__all__ = ["make_sampler", "make_pruner", "successive_halving", "brackets"]

ETA = 3  # successive-halving reduction factor (Li et al.)


def make_sampler(name: str, cfg: StudyConfig) -> optuna.samplers.BaseSampler:
    seed = cfg.search.seed
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if name in ("random", "grid", "hyperband"):
        # grid: the loop enqueues every combination; hyperband samples its brackets at random
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True,
                                          n_startup_trials=min(10, max(2, cfg.search.trials
                                                                       // 5)))
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False,
                                            independent_sampler=optuna.samplers.RandomSampler(
                                                seed=seed))
    if name == "gp":
        from lstmtune.search._gp import GPSampler

        return GPSampler(seed=seed, n_startup_trials=min(10, max(2, cfg.search.trials // 5)))
    if name in GA_APPROACHES:
        from lstmtune.search._ga import GASampler

        # maximising: the value is the fitness, a negative one (mean - risk * std below 0)
        # counting as 0, as a failed trial does
        fitness = _nonnegative if cfg.task.direction == "maximize" else "inverse"
        return GASampler(seed=seed, population_size=cfg.search.batch,
                         approach=GA_APPROACHES[name], fitness=fitness,
                         search_space=cfg.space.distributions())
    raise ConfigError(f"strategy '{name}' has no sampler; valid: grid, random, tpe, gp, cmaes, "
                      "hyperband, ga, ga1, ga2, ga3, hybrid.")


# seed 003's genetic algorithm: approach I (fitness^4, the best re-run), II (fitness^4, the
# top half kept), III (fitness^2, the top half kept); "ga" is III, the paper's best
GA_APPROACHES = {"ga": "III", "ga1": "I", "ga2": "II", "ga3": "III"}


def _nonnegative(value: float) -> float:
    return max(float(value), 0.0)


def better_first(study: optuna.Study):
    """A sort key that puts the study's better values first (either direction)."""
    sign = -1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else 1.0
    return lambda value: sign * value


def make_pruner(name: str, p_threshold: float = 0.1) -> optuna.pruners.BasePruner:
    """Pruners read the trial's aggregate over its members at each chunk end; ``wilcoxon``
    reads every member's score instead (one step per epoch checkpoint × fold × repeat) and
    pairs them with the best trial's, see ``_tune._evaluate_batch``."""
    if name == "wilcoxon":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.pruners.WilcoxonPruner(p_threshold=p_threshold)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=0)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    return optuna.pruners.NopPruner()


def brackets(max_epochs: int, eta: int = ETA) -> list[tuple[int, list[int]]]:
    """Hyperband's brackets for a budget of ``max_epochs``: (configurations, rung epochs) for
    s = s_max .. 0; bracket s starts n = ceil((s_max+1)/(s+1) * eta^s) configurations at
    max_epochs * eta^-s epochs and keeps the best 1/eta at each rung."""
    s_max = max(0, int(math.floor(math.log(max_epochs, eta) + 1e-9)) - 1)
    # rungs are rounded to multiples of q, the largest divisor of max_epochs not above the
    # smallest rung, so that training chunks (which must end at every rung) stay long
    r_min = max_epochs * eta**-s_max
    q = max(d for d in range(1, max(1, int(r_min)) + 1) if max_epochs % d == 0)
    out = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) / (s + 1) * eta**s)
        rungs = sorted({max(q, q * round(max_epochs * eta ** -(s - i) / q)) for i in range(s)})
        out.append((n, [r for r in rungs if r < max_epochs]))
    return out


def successive_halving(study: optuna.Study, cfg: StudyConfig, remaining: int
                       ) -> tuple[list[optuna.Trial], Callable, tuple[int, ...]]:
    """Ask the next Hyperband bracket's trials; return them, the rung hook and the rungs.

    One bracket is one population: at each rung the loop asks the hook which trials to stop,
    and the survivors continue from their trained state (nothing is retrained)."""
    max_epochs = dict(cfg.fixed).get("epochs", 500)
    plan = brackets(max_epochs)
    b = int(study.user_attrs.get("lstmtune:bracket", 0))
    study.set_user_attr("lstmtune:bracket", b + 1)
    n, rungs = plan[b % len(plan)]
    trials = [study.ask() for _ in range(min(n, remaining))]
    alive = set(range(len(trials)))

    def hook(done: int, values: dict[int, float]) -> list[int]:
        if done not in rungs:
            return []
        key = better_first(study)
        ranked = sorted((i for i in alive if i in values), key=lambda i: key(values[i]))
        keep = set(ranked[: max(1, len(ranked) // ETA)])
        stop = [i for i in ranked if i not in keep]
        alive.difference_update(stop)
        return stop

    return trials, hook, tuple(rungs)
