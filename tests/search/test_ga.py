from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmtune.errors import ConfigError
from lstmtune.search._ga import (
    GASampler,
    choose_parents,
    crossover,
    selection_probabilities,
)

from .test_gp import SPACE, check_conformance, objective, suggest

optuna.logging.set_verbosity(optuna.logging.WARNING)

GEN = "ga:generation"


def _study(approach: str, n_trials: int, *, pop: int = 10, seed: int = 0, **kw
           ) -> optuna.Study:
    sampler = GASampler(population_size=pop, approach=approach, seed=seed,
                        search_space=SPACE, **kw)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=n_trials)
    return study


def _gen(study: optuna.Study, g: int) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.trials if t.system_attrs[GEN] == g]


@pytest.mark.parametrize("approach", ["I", "III"])
def test_conformance(tmp_path: Path, approach: str) -> None:
    check_conformance(lambda s: GASampler(population_size=10, approach=approach, seed=s,
                                          search_space=SPACE),
                      tmp_path, n_trials=30, stop_at=13, batch_after=10)


def test_conformance_without_an_explicit_search_space(tmp_path: Path) -> None:
    check_conformance(lambda s: GASampler(population_size=10, approach="II", seed=s),
                      tmp_path, n_trials=30, stop_at=13, batch_after=10)


def test_selection_probabilities_are_f_to_the_k_over_the_sum() -> None:
    np.testing.assert_allclose(selection_probabilities([1.0, 2.0, 3.0], 4),
                               [1 / 98, 16 / 98, 81 / 98])
    np.testing.assert_allclose(selection_probabilities([0.5, 0.9, 0.0], 2),
                               [0.25 / 1.06, 0.81 / 1.06, 0.0])
    np.testing.assert_allclose(selection_probabilities([0.0, 0.0], 4), [0.5, 0.5])


def test_crossover_takes_the_head_from_a_and_the_tail_from_b() -> None:
    a, b = ["A1", "A2", "A3", "A4"], ["B1", "B2", "B3", "B4"]
    assert crossover(a, b, 1) == ["A1", "B2", "B3", "B4"]
    assert crossover(a, b, 2) == ["A1", "A2", "B3", "B4"]
    assert crossover(a, b, 3) == ["A1", "A2", "A3", "B4"]
    assert crossover(b, a, 1) == ["B1", "A2", "A3", "A4"]


@settings(max_examples=200, deadline=None)
@given(n=st.integers(2, 20), heavy=st.integers(0, 19), eps=st.sampled_from([0.0, 1e-12, 1e-3]),
       seed=st.integers(0, 2**32 - 1))
def test_parents_are_always_distinct(n: int, heavy: int, eps: float, seed: int) -> None:
    heavy %= n
    p = np.full(n, eps / (n - 1))
    p[heavy] = 1.0 - eps
    a, b = choose_parents(p / p.sum(), np.random.default_rng(seed))
    assert a != b
    if eps == 0.0:
        assert a == heavy


def test_second_parent_follows_the_renormalised_probabilities() -> None:
    # P(b = j | a = i) = p_j / (1 - p_i): the law of "resample until distinct"
    p = np.array([0.5, 0.3, 0.2])
    rng = np.random.default_rng(0)
    pairs = [choose_parents(p, rng) for _ in range(20000)]
    freq = np.zeros((3, 3))
    for a, b in pairs:
        freq[a, b] += 1
    want = np.array([[p[i] * p[j] / (1 - p[i]) if i != j else 0.0 for j in range(3)]
                     for i in range(3)])
    np.testing.assert_allclose(freq / len(pairs), want, atol=0.01)


def _combos(a: dict, b: dict) -> list[dict]:
    names = list(SPACE)
    va, vb = [a[n] for n in names], [b[n] for n in names]
    return [dict(zip(names, crossover(x, y, c), strict=True))
            for x, y in ((va, vb), (vb, va)) for c in range(1, len(names))]


@pytest.mark.parametrize("approach", ["I", "II"])
def test_without_mutation_every_child_is_a_crossover_of_two_members(approach: str) -> None:
    study = _study(approach, 20 if approach == "I" else 15, mutation_prob=0.0)
    members = [t.params for t in _gen(study, 0)]
    children = _gen(study, 1)[1:] if approach == "I" else _gen(study, 1)
    for child in children:
        assert any(child.params in _combos(a, b) for a, b in itertools.combinations(members, 2))


def test_with_mutation_one_every_child_is_a_crossover_with_one_gene_redrawn() -> None:
    study = _study("II", 15, mutation_prob=1.0)
    members = [t.params for t in _gen(study, 0)]
    for child in _gen(study, 1):
        best = min(sum(child.params[n] != c[n] for n in SPACE)
                   for a, b in itertools.combinations(members, 2) for c in _combos(a, b))
        assert best <= 1


@pytest.mark.parametrize("approach", ["II", "III"])
def test_top_half_is_carried_over_without_new_trials(approach: str) -> None:
    study = _study(approach, 20)
    assert [len(_gen(study, g)) for g in range(3)] == [10, 5, 5]
    gen0 = _gen(study, 0)
    top = sorted(gen0, key=lambda t: (t.value, t.number))[:5]  # fitness 1/value
    pop1 = study.sampler.population(study, 1)
    assert [m.number for m in pop1 if m.carried] == [t.number for t in top]
    assert [m.params for m in pop1 if m.carried] == [t.params for t in top]
    assert [m.number for m in pop1 if not m.carried] == [t.number for t in _gen(study, 1)]
    for m, t in zip(pop1, top, strict=False):
        assert m.fitness == pytest.approx(1 / t.value)
    # generation 2 carries the top half of generation 1's ten (five old trials, five new)
    ranked = sorted(pop1, key=lambda m: (-m.fitness, m.number))[:5]
    assert [m.number for m in study.sampler.population(study, 2) if m.carried] == [
        m.number for m in ranked]


def test_approach_one_reruns_the_previous_best_as_a_new_trial() -> None:
    study = _study("I", 18, pop=6)
    for g in (1, 2):
        prev, now = _gen(study, g - 1), _gen(study, g)
        assert len(now) == 6
        best = min(prev, key=lambda t: (t.value, t.number))
        assert now[0].params == best.params and now[0].number not in [t.number for t in prev]
        assert not any(m.carried for m in study.sampler.population(study, g))


def test_failed_trials_have_fitness_zero_and_are_never_carried() -> None:
    def sometimes_fails(trial: optuna.Trial) -> float:
        value = objective(trial)
        if trial.number in (0, 1, 2):
            raise RuntimeError("diverged")
        return value

    sampler = GASampler(population_size=6, approach="III", seed=0, search_space=SPACE)
    study = optuna.create_study(sampler=sampler)
    study.optimize(sometimes_fails, n_trials=9, catch=(RuntimeError,))
    pop0 = sampler.population(study, 0)
    assert [m.fitness for m in pop0[:3]] == [0.0, 0.0, 0.0]
    assert {m.number for m in sampler.population(study, 1) if m.carried} == {3, 4, 5}


def test_slots_left_and_trials_asked_beyond_them() -> None:
    sampler = GASampler(population_size=4, approach="II", seed=0, search_space=SPACE)
    assert (sampler.population_size, sampler.approach) == (4, "II")
    study = optuna.create_study(sampler=sampler)
    assert sampler.slots_left(study) == 4
    asked = [study.ask() for _ in range(4)]
    assert sampler.slots_left(study) == 0
    extra = study.ask()  # the generation is full and unfinished: a random trial outside the GA
    for t in [*asked, extra]:
        study.tell(t, objective(t))
    assert study.trials[4].system_attrs[GEN] == -1
    assert sampler.slots_left(study) == 2
    assert len(sampler.population(study, 0)) == 4


def test_fitness_rules() -> None:
    sampler = GASampler(population_size=2, approach="II", seed=0, search_space=SPACE)
    maxi = optuna.create_study(direction="maximize", sampler=sampler)
    maxi.optimize(objective, n_trials=2)
    assert [m.fitness for m in sampler.population(maxi, 0)] == [t.value for t in maxi.trials]
    squared = GASampler(population_size=2, seed=0, search_space=SPACE,
                        fitness=lambda v: math.exp(-v))
    s = optuna.create_study(sampler=squared)
    s.optimize(objective, n_trials=2)
    assert [m.fitness for m in squared.population(s, 0)] == [math.exp(-t.value)
                                                             for t in s.trials]
    bad = optuna.create_study(sampler=GASampler(population_size=2, seed=0, search_space=SPACE))
    bad.optimize(lambda t: objective(t) - 10.0, n_trials=2)
    with pytest.raises(ConfigError, match="values > 0"):
        bad.optimize(lambda t: objective(t) - 10.0, n_trials=1)


@pytest.mark.parametrize("kwargs", [{"population_size": 1}, {"approach": "IV"},
                                    {"mutation_prob": 1.5}, {"fitness": "accuracy"},
                                    {"search_space": {"x": (0, 1)}}, {"seed": "0"}])
def test_bad_arguments_raise_config_error(kwargs: dict) -> None:
    with pytest.raises(ConfigError, match=next(iter(kwargs))):
        GASampler(**kwargs)


def test_suggest_helper_matches_the_space() -> None:
    study = optuna.create_study()
    assert set(suggest(study.ask())) == set(SPACE)
