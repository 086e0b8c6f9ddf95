"""Tests for lstmtune.data._splits against hand-written index lists."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.model_selection import TimeSeriesSplit

from lstmtune.data._splits import Split, WalkForward, chronological_split, resolve_size
from lstmtune.errors import ConfigError, SplitError


def _lists(wf: WalkForward, n: int) -> list[tuple[list[int], list[int]]]:
    return [(tr.tolist(), te.tolist()) for tr, te in wf.split(n)]


# --- resolve_size ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "n", "expected"),
    [
        (12, 36, 12),
        (0, 36, 0),
        (np.int64(5), 36, 5),
        (0.25, 36, 9),
        (0.2, 10, 2),
        (0.21, 10, 3),
        (0.07, 100, 7),
    ],
)
def test_resolve_size(size: int | float, n: int, expected: int) -> None:
    assert resolve_size(size, n, "test_size") == expected


@pytest.mark.parametrize("size", [-1, True, 1.0, 0.0, 1.5, -0.2, "3", None])
def test_resolve_size_rejects(size: object) -> None:
    with pytest.raises(ConfigError, match="test_size"):
        resolve_size(size, 36, "test_size")  # type: ignore[arg-type]


# --- chronological_split ---------------------------------------------------------------------


def test_chronological_split_without_val() -> None:
    s = chronological_split(36, test_size=12)
    assert s == Split(train=slice(0, 24), val=slice(24, 24), test=slice(24, 36))
    assert (s.n_train, s.n_val, s.n_test) == (24, 0, 12)


def test_chronological_split_with_val_and_fractions() -> None:
    s = chronological_split(36, test_size=12, val_size=6)
    assert (s.train, s.val, s.test) == (slice(0, 18), slice(18, 24), slice(24, 36))
    s = chronological_split(10, test_size=0.2, val_size=0.1)
    assert (s.train, s.val, s.test) == (slice(0, 7), slice(7, 8), slice(8, 10))


def test_chronological_split_min_train_exactly_met() -> None:
    s = chronological_split(38, test_size=24, val_size=12, min_train=2)
    assert s.train == slice(0, 2)


def test_chronological_split_too_short_message() -> None:
    msg = (
        "Series of 36 points is too short for val_size=12 + test_size=24 with at least 2 "
        "training points: need at least 38 points. Use smaller windows or more data."
    )
    with pytest.raises(SplitError, match=f"^{re.escape(msg)}$"):
        chronological_split(36, test_size=24, val_size=12, min_train=2)


def test_chronological_split_needs_a_test_point() -> None:
    with pytest.raises(ConfigError, match="test_size"):
        chronological_split(10, test_size=0)


def test_split_is_frozen() -> None:
    s = chronological_split(10, test_size=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.train = slice(0, 1)  # type: ignore[misc]


# --- WalkForward: hand-written index lists ---------------------------------------------------


def test_walk_forward_expanding() -> None:
    wf = WalkForward(horizon=2, n_windows=3, step=2)
    assert _lists(wf, 10) == [
        ([0, 1, 2, 3], [4, 5]),
        ([0, 1, 2, 3, 4, 5], [6, 7]),
        ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9]),
    ]
    assert wf.cutoffs(10).tolist() == [3, 5, 7]
    assert wf.n_splits == 3


def test_walk_forward_step_defaults_to_horizon() -> None:
    assert _lists(WalkForward(horizon=2, n_windows=3), 10) == _lists(
        WalkForward(horizon=2, n_windows=3, step=2), 10
    )


def test_walk_forward_gap() -> None:
    wf = WalkForward(horizon=2, n_windows=3, step=2, gap=1)
    assert _lists(wf, 10) == [
        ([0, 1, 2], [4, 5]),
        ([0, 1, 2, 3, 4], [6, 7]),
        ([0, 1, 2, 3, 4, 5, 6], [8, 9]),
    ]
    assert wf.cutoffs(10).tolist() == [2, 4, 6]


def test_walk_forward_step_one_overlapping_tests() -> None:
    wf = WalkForward(horizon=2, n_windows=3, step=1)
    assert _lists(wf, 10) == [
        ([0, 1, 2, 3, 4, 5], [6, 7]),
        ([0, 1, 2, 3, 4, 5, 6], [7, 8]),
        ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9]),
    ]


def test_walk_forward_sliding() -> None:
    wf = WalkForward(horizon=2, n_windows=3, step=2, expanding=False)
    assert _lists(wf, 10) == [
        ([0, 1, 2, 3], [4, 5]),
        ([2, 3, 4, 5], [6, 7]),
        ([4, 5, 6, 7], [8, 9]),
    ]


def test_walk_forward_sliding_with_gap() -> None:
    wf = WalkForward(horizon=2, n_windows=3, step=2, gap=1, expanding=False)
    assert _lists(wf, 10) == [
        ([0, 1, 2], [4, 5]),
        ([2, 3, 4], [6, 7]),
        ([4, 5, 6], [8, 9]),
    ]


def test_walk_forward_max_train_size() -> None:
    wf = WalkForward(horizon=2, n_windows=3, step=2, max_train_size=3)
    assert _lists(wf, 10) == [
        ([1, 2, 3], [4, 5]),
        ([3, 4, 5], [6, 7]),
        ([5, 6, 7], [8, 9]),
    ]


def test_walk_forward_default_is_one_step_holdout() -> None:
    assert _lists(WalkForward(), 5) == [([0, 1, 2, 3], [4])]


def test_walk_forward_min_train_size_boundary() -> None:
    wf = WalkForward(horizon=2, n_windows=3, min_train_size=4)
    assert _lists(wf, 10)[0] == ([0, 1, 2, 3], [4, 5])
    with pytest.raises(SplitError, match="min_train_size=5"):
        list(WalkForward(horizon=2, n_windows=3, min_train_size=5).split(10))


def test_walk_forward_too_many_windows_message() -> None:
    msg = (
        "Too many windows: n_windows=4 with horizon=3, step=3 and gap=0 need at least 13 "
        "points for min_train_size=1, but the series has n=10. "
        "Use n_windows <= 3 or a smaller horizon/step."
    )
    with pytest.raises(SplitError, match=f"^{re.escape(msg)}$"):
        list(WalkForward(horizon=3, n_windows=4).split(10))
    with pytest.raises(SplitError, match="n=10"):
        WalkForward(horizon=3, n_windows=4).cutoffs(10)


def test_walk_forward_horizon_longer_than_series() -> None:
    with pytest.raises(SplitError, match="Use a smaller horizon or gap, or more data"):
        list(WalkForward(horizon=5).split(3))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"horizon": 0}, "horizon"),
        ({"horizon": 1.5}, "horizon"),
        ({"horizon": True}, "horizon"),
        ({"n_windows": 0}, "n_windows"),
        ({"step": 0}, "step"),
        ({"gap": -1}, "gap"),
        ({"expanding": "yes"}, "expanding"),
        ({"max_train_size": 0}, "max_train_size"),
        ({"min_train_size": 0}, "min_train_size"),
        ({"max_train_size": 2, "min_train_size": 3}, "max_train_size"),
    ],
)
def test_walk_forward_validation(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        WalkForward(**kwargs)  # type: ignore[arg-type]


def test_walk_forward_is_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        WalkForward(2)  # type: ignore[misc]
    wf = WalkForward()
    with pytest.raises(dataclasses.FrozenInstanceError):
        wf.horizon = 3  # type: ignore[misc]


def test_walk_forward_rejects_bad_n() -> None:
    with pytest.raises(ConfigError, match="n must be"):
        list(WalkForward().split(0))


# --- cross-check with scikit-learn -----------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "k", "h", "gap", "max_train"),
    [(10, 3, 2, 0, None), (36, 12, 1, 0, None), (36, 4, 3, 2, None), (50, 5, 4, 1, 10)],
)
def test_walk_forward_matches_sklearn(
    n: int, k: int, h: int, gap: int, max_train: int | None
) -> None:
    ours = _lists(WalkForward(horizon=h, n_windows=k, gap=gap, max_train_size=max_train), n)
    ref = TimeSeriesSplit(n_splits=k, test_size=h, gap=gap, max_train_size=max_train)
    theirs = [(tr.tolist(), te.tolist()) for tr, te in ref.split(np.zeros(n))]
    assert ours == theirs


# --- properties ------------------------------------------------------------------------------


@given(
    n=st.integers(1, 60),
    horizon=st.integers(1, 6),
    n_windows=st.integers(1, 6),
    step=st.none() | st.integers(1, 6),
    gap=st.integers(0, 3),
    expanding=st.booleans(),
    max_train=st.none() | st.integers(1, 20),
)
def test_walk_forward_invariants(
    n: int,
    horizon: int,
    n_windows: int,
    step: int | None,
    gap: int,
    expanding: bool,
    max_train: int | None,
) -> None:
    wf = WalkForward(
        horizon=horizon,
        n_windows=n_windows,
        step=step,
        gap=gap,
        expanding=expanding,
        max_train_size=max_train,
    )
    try:
        folds = list(wf.split(n))
    except SplitError:
        assert n < 1 + gap + horizon + (n_windows - 1) * wf.step_size
        return
    assert len(folds) == n_windows
    assert folds[-1][1][-1] == n - 1
    for (train, test), cutoff in zip(folds, wf.cutoffs(n), strict=True):
        assert len(test) == horizon and np.all(np.diff(test) == 1)
        assert len(train) >= 1 and np.all(np.diff(train) == 1)
        assert train[-1] == cutoff == test[0] - gap - 1
        if max_train is not None:
            assert len(train) <= max_train
    if not expanding:
        assert len({len(tr) for tr, _ in folds}) == 1
