"""Seed 003's genetic algorithm (Poudel et al., "Hyperparameter Tuning in LSTM Network").

Genes are the search space's parameters, in order (the paper's four: learning rate, hidden
units, epochs, input length).  Generation 0 is ``population_size`` random individuals; every
later generation is bred from the previous one once all its trials have finished:

- selection: ``P(i) = f_i**k / sum_j f_j**k`` with ``k = 4`` (approaches I and II) or ``k = 2``
  (approach III); failed and pruned trials have fitness 0;
- approach I carries the best individual over *as a new trial* (the paper re-runs it) and
  breeds ``population_size - 1`` children; approaches II and III carry the top half over
  *without* new trials (their fitness is kept) and breed the other half;
- a child: two distinct parents, then one-point crossover between genes — one of Fig. 3's six
  combinations, uniformly (a cut ``c`` in ``1..n-1`` and which parent gives the head) — then,
  with probability ``mutation_prob``, *one* gene redrawn uniformly from its distribution.

Reading of the paper where it is silent:

- "probability of 30 percent to undergo mutation" is per child, not per bit.  The paper's
  genes are fixed-point bit fields (10 bits of learning rate / 2000, 9 bits of units, ...) but
  it does not say how many bits flip; redrawing one whole gene is what uniformly redrawing all
  of that gene's bits does, and it works for log, stepped and categorical ranges alike.
- "We ensure that two parents will not be identical": the second parent is drawn from the
  selection probabilities with the first one's removed (renormalised) — the distribution of
  "resample until distinct", without a loop that never ends when one individual holds almost
  all the mass.
- A child identical to an individual already in its generation is bred again (up to 20 tries,
  then one gene is mutated): with ``1/RMSE`` fitness and ``k = 4`` the best pair dominates and
  would otherwise be evaluated many times over.  Approach I's re-run of the best is the one
  deliberate duplicate.

Fitness (``fitness="inverse"``): the paper maximises validation accuracy, fitness = value.
For a minimised loss such as RMSE the fitness is ``1 / value`` (values must be > 0); for
``direction="maximize"`` it is the value itself (must be >= 0).  A callable maps a value to a
fitness >= 0 instead.

Bookkeeping lives in the study's storage, so a stopped study resumes where it was:
each generation's plan (gene names, carried trial numbers, the children) is a study system
attr ``ga:plan:<g>``, built from ``seed`` and ``g`` alone; each trial gets the system attrs
``ga:generation`` and ``ga:slot`` when it is created (``before_trial``), in ask order.
Trials asked when the current generation has no free slot and is still running are sampled at
random and tagged ``ga:generation = -1`` (outside the GA): ask at most ``slots_left(study)``
trials before telling.  Stale RUNNING trials (a killed process) hold their generation open;
use Optuna's heartbeat or fail them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import intersection_search_space
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from lstmtune.errors import ConfigError

__all__ = ["GASampler", "Member", "selection_probabilities", "choose_parents", "crossover"]

APPROACHES = {"I": (4, False), "II": (4, True), "III": (2, True)}  # (k, top half carried)
GEN, SLOT, PLAN = "ga:generation", "ga:slot", "ga:plan:"
_TRIES = 20


def selection_probabilities(fitness: Sequence[float], k: float) -> np.ndarray:
    """``f**k / sum(f**k)``; uniform when every fitness is 0."""
    f = np.asarray(fitness, float) ** k
    total = f.sum()
    return f / total if total > 0 else np.full(len(f), 1.0 / len(f))


def choose_parents(p: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    """Two distinct indices: the first drawn with ``p``, the second with ``p`` less the first."""
    a = int(rng.choice(len(p), p=p))
    rest = np.array(p, float)
    rest[a] = 0.0
    rest = rest / rest.sum() if rest.sum() > 0 else (np.arange(len(p)) != a) / (len(p) - 1)
    return a, int(rng.choice(len(p), p=rest))


def crossover(a: Sequence[Any], b: Sequence[Any], cut: int) -> list[Any]:
    """One-point crossover: genes ``[0, cut)`` from ``a``, the rest from ``b``."""
    return [*a[:cut], *b[cut:]]


class Member(NamedTuple):
    """One individual of a generation."""

    number: int  # its trial's number
    params: dict[str, Any]  # its genes
    fitness: float
    carried: bool  # carried over from an earlier generation, not a new trial


class GASampler(BaseSampler):
    """Seed 003's generational GA (see the module docstring).

    Args:
        population_size: individuals per generation (the paper: 20).
        approach: "I", "II" or "III" (the paper's three; III found its best model).
        mutation_prob: probability that a child has one gene redrawn (the paper: 0.3).
        seed: makes the study reproducible; a resumed study continues as it would have.
        fitness: "inverse" (``1/value`` when minimising, ``value`` when maximising) or a
            callable from an objective value to a fitness >= 0.
        search_space: the genes, in crossover order.  Without it generation 0 is sampled
            independently and the genes are the completed trials' common parameters, sorted.
    """

    def __init__(self, *, population_size: int = 20, approach: str = "III",
                 mutation_prob: float = 0.3, seed: int | None = None,
                 fitness: str | Callable[[float], float] = "inverse",
                 search_space: dict[str, BaseDistribution] | None = None) -> None:
        if not isinstance(population_size, int) or population_size < 2:
            raise ConfigError("GASampler: population_size must be an int >= 2 (two distinct "
                              f"parents), got population_size={population_size!r}.")
        if approach not in APPROACHES:
            raise ConfigError(f"GASampler: approach must be one of 'I', 'II', 'III', got "
                              f"approach={approach!r}.")
        if not (isinstance(mutation_prob, int | float) and 0 <= mutation_prob <= 1):
            raise ConfigError("GASampler: mutation_prob must be in [0, 1], got "
                              f"mutation_prob={mutation_prob!r}; the paper uses 0.3.")
        if fitness != "inverse" and not callable(fitness):
            raise ConfigError(f"GASampler: fitness must be 'inverse' or a callable, got "
                              f"fitness={fitness!r}.")
        if search_space is not None and not (
                search_space and all(isinstance(d, BaseDistribution)
                                     for d in search_space.values())):
            raise ConfigError("GASampler: search_space must map names to Optuna "
                              f"distributions, got {search_space!r}; or leave it None.")
        if seed is not None and not isinstance(seed, int):
            raise ConfigError(f"GASampler: seed must be an int or None, got seed={seed!r}.")
        self._pop = population_size
        self._approach = approach
        self._k, self._half = APPROACHES[approach]
        self._mut = float(mutation_prob)
        self._fitness = fitness
        self._explicit = dict(search_space) if search_space else None
        self._seed = seed if seed is not None else int(np.random.SeedSequence().entropy % 2**63)
        self._random = RandomSampler(seed=seed)
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def population_size(self) -> int:
        return self._pop

    @property
    def approach(self) -> str:
        return self._approach

    def reseed_rng(self) -> None:
        self._random.reseed_rng()

    # ---- the Optuna interface -------------------------------------------------------------

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial
                                    ) -> dict[str, BaseDistribution]:
        return self._space(study)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        if GEN in trial.system_attrs:
            return
        if study._is_multi_objective():
            raise ConfigError("GASampler: the study must have one objective, got "
                              f"{len(study.directions)}; use one direction.")
        with self._lock:
            gen, slot = self._assign(study, trial)
            study._storage.set_trial_system_attr(trial._trial_id, GEN, gen)
            study._storage.set_trial_system_attr(trial._trial_id, SLOT, slot)

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        attrs = study._storage.get_trial(trial._trial_id).system_attrs
        if GEN not in attrs:  # called without before_trial
            self.before_trial(study, trial)
            attrs = study._storage.get_trial(trial._trial_id).system_attrs
        if attrs[GEN] < 0:
            return {}
        plan = self._plans(study)[attrs[GEN]]
        child = plan["children"][attrs[SLOT]]
        return {} if child is None else {n: v for n, v in child.items() if n in search_space}

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    # ---- inspection -----------------------------------------------------------------------

    def slots_left(self, study: Study) -> int:
        """Trials that can be asked now and join the GA (0: tell results first)."""
        trials = study.get_trials(deepcopy=False)
        gen = _by_generation(trials)
        if not gen:
            return self._pop
        g = max(gen)
        free = len(self._plans(study)[g]["children"]) - len(gen[g])
        if free > 0:
            return free
        if all(t.state.is_finished() for t in gen[g]):
            return self._pop - self._pop // 2 if self._half else self._pop
        return 0

    def population(self, study: Study, generation: int) -> list[Member]:
        """The members of ``generation`` (carried ones first, then its trials by slot)."""
        plans = self._plans(study)
        if generation not in plans:
            raise ConfigError(f"GASampler.population: generation {generation} has not started; "
                              f"started: 0..{len(plans) - 1}.")
        trials = study.get_trials(deepcopy=False)
        genes = plans[generation]["genes"] or list(self._space(study))
        return self._members(study, trials, plans, generation, genes, None)

    # ---- bookkeeping ----------------------------------------------------------------------

    def _space(self, study: Study) -> dict[str, BaseDistribution]:
        if self._explicit is not None:
            return self._explicit
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        return {n: d for n, d in intersection_search_space(done).items() if not d.single()}

    def _plans(self, study: Study) -> dict[int, dict[str, Any]]:
        attrs = study._storage.get_study_system_attrs(study._study_id)
        return {int(k[len(PLAN):]): v for k, v in attrs.items() if k.startswith(PLAN)}

    def _assign(self, study: Study, trial: FrozenTrial) -> tuple[int, int]:
        """The (generation, slot) of a new trial; builds the next plan when one is due."""
        trials = [t for t in study.get_trials(deepcopy=False) if t.number != trial.number]
        gen, plans = _by_generation(trials), self._plans(study)
        g = max(gen) if gen else -1
        if g >= 0:
            used = {t.system_attrs[SLOT] for t in gen[g]}
            free = [i for i in range(len(plans[g]["children"])) if i not in used]
            if free:
                return g, free[0]
            if not all(t.state.is_finished() for t in gen[g]):
                return -1, -1
        if g + 1 not in plans:
            plans[g + 1] = self._build(study, trial, trials, plans, g + 1)
            study._storage.set_study_system_attr(study._study_id, f"{PLAN}{g + 1}", plans[g + 1])
        return g + 1, 0

    def _build(self, study: Study, trial: FrozenTrial, trials: list[FrozenTrial],
               plans: dict[int, dict[str, Any]], g: int) -> dict[str, Any]:
        """Generation ``g``'s plan, from ``seed``, ``g`` and generation ``g - 1``'s results."""
        rng = np.random.default_rng([self._seed, g])
        rs = RandomSampler(seed=int(rng.integers(2**32)))
        space = self._space(study)
        genes = list(space)

        def draw(name: str) -> Any:
            return rs.sample_independent(study, trial, name, space[name])

        def individual() -> dict[str, Any] | None:
            return {n: draw(n) for n in genes} if genes else None

        if g == 0 or not genes:
            return {"genes": genes, "carried": [], "children": [individual()
                                                               for _ in range(self._pop)]}
        members = self._members(study, trials, plans, g - 1, genes, draw)
        order = sorted(members, key=lambda m: (-m.fitness, m.number))
        carried = order[: self._pop // 2] if self._half else []
        children: list[dict[str, Any] | None] = [] if self._half else [dict(order[0].params)]
        kept = [m.params for m in carried] + children
        p = selection_probabilities([m.fitness for m in members], self._k)
        while len(carried) + len(children) < self._pop:
            for attempt in range(_TRIES):
                child = self._breed(members, p, genes, rng, draw, force=attempt == _TRIES - 1)
                if child not in kept:
                    break
            kept.append(child)
            children.append(child)
        return {"genes": genes, "carried": [m.number for m in carried], "children": children}

    def _breed(self, members: list[Member], p: np.ndarray, genes: list[str],
               rng: np.random.Generator, draw: Callable[[str], Any], force: bool
               ) -> dict[str, Any]:
        """One child: distinct parents, one of Fig. 3's crossovers, then maybe a mutation."""
        if len(members) < 2:
            return {n: draw(n) for n in genes}
        a, b = choose_parents(p, rng)
        if rng.random() < 0.5:
            a, b = b, a
        cut = int(rng.integers(1, len(genes))) if len(genes) > 1 else 1
        values = crossover([members[a].params[n] for n in genes],
                           [members[b].params[n] for n in genes], cut)
        child = dict(zip(genes, values, strict=True))
        if force or rng.random() < self._mut:
            name = genes[int(rng.integers(len(genes)))]
            child[name] = draw(name)
        return child

    def _members(self, study: Study, trials: list[FrozenTrial],
                 plans: dict[int, dict[str, Any]], g: int, genes: list[str],
                 draw: Callable[[str], Any] | None) -> list[Member]:
        """Generation ``g``: carried trials, then its own trials by slot.  A gene a trial
        never suggested (a conditional parameter) is the planned value, else a random one."""
        by_number = {t.number: t for t in trials}
        own = sorted(_by_generation(trials).get(g, []), key=lambda t: t.system_attrs[SLOT])
        out = []
        for t, carried in [(by_number[n], True) for n in plans[g]["carried"]] + [
                (t, False) for t in own]:
            planned = plans[t.system_attrs[GEN]]["children"][t.system_attrs[SLOT]] or {}
            params = {}
            for n in genes:
                if n in t.params:
                    params[n] = t.params[n]
                elif n in planned or draw is None:
                    params[n] = planned.get(n)
                else:
                    params[n] = draw(n)
            out.append(Member(t.number, params, self._fitness_of(study, t), carried))
        return out

    def _fitness_of(self, study: Study, t: FrozenTrial) -> float:
        if t.state != TrialState.COMPLETE:
            return 0.0
        v = float(t.value)
        if callable(self._fitness):
            f = float(self._fitness(v))
        elif study.direction == StudyDirection.MAXIMIZE:
            f = v
        else:
            f = 1.0 / v if v > 0 else -1.0
        if not (np.isfinite(f) and f >= 0):
            rule = ("a fitness >= 0" if callable(self._fitness) else
                    "values > 0 for fitness='inverse' (1/value when minimising)"
                    if study.direction == StudyDirection.MINIMIZE else
                    "values >= 0 for fitness='inverse' (value when maximising)")
            raise ConfigError(f"GASampler: fitness needs {rule}, got value={v!r} in trial "
                              f"{t.number}; pass fitness=callable mapping a value to a "
                              "fitness >= 0.")
        return f


def _by_generation(trials: list[FrozenTrial]) -> dict[int, list[FrozenTrial]]:
    out: dict[int, list[FrozenTrial]] = {}
    for t in trials:
        g = t.system_attrs.get(GEN)
        if g is not None and g >= 0:
            out.setdefault(g, []).append(t)
    return out
