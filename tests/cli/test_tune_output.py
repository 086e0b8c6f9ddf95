"""What `tune` prints: a leaderboard that fits an 80-column terminal, and failures by kind."""

from __future__ import annotations

import io
import types

import pandas as pd
from rich.console import Console

from lstmtune.cli._tune import leaderboard_table, print_failures
from lstmtune.search import DEFAULT_SPACE


def _board(n: int = 3) -> pd.DataFrame:
    params = {f"param_{name}": [0.000123456 * (k + 1) if name == "learning_rate" else
                                "rmsprop" if name == "optimizer" else k + 1
                                for k in range(n)] for name in DEFAULT_SPACE.names}
    return pd.DataFrame({"rank": range(1, n + 1), "trial": [41, 7, 3], "value": [50.1, 51, 52],
                         "mean": [50.123, 51.0, 52.5], "std": [1.25, 2.0, 0.5], **params})


def _render(table, width: int) -> list[str]:
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None).print(table)
    return buf.getvalue().splitlines()


def test_the_leaderboard_fits_80_columns_and_names_what_it_leaves_out():
    table, hidden = leaderboard_table(_board(), "Leaderboard", 80)
    lines = _render(table, 80)
    assert max(len(line) for line in lines) <= 80
    body = "\n".join(lines)
    assert "rank" in body and "trial" in body and "50.123 ± 1.250" in body
    shown = [n for n in DEFAULT_SPACE.names if n not in hidden]
    assert shown == DEFAULT_SPACE.names[: len(shown)] and 1 <= len(shown) < 14
    for name in shown:  # whole names, not cut to a letter
        assert name in body
    assert hidden == DEFAULT_SPACE.names[len(shown):]
    wide, none_hidden = leaderboard_table(_board(), "Leaderboard", 400)
    assert none_hidden == []


def test_failures_are_printed_by_kind_with_an_example(monkeypatch):
    buf = io.StringIO()
    monkeypatch.setattr("lstmtune.cli._tune.console", Console(file=buf, width=200))
    r = types.SimpleNamespace(n_trials_complete=5, n_trials_failed=3, n_trials_pruned=1,
                              wall_seconds=2.0, failures={
                                  "diverged": {"count": 2, "example": "3 of 3 members diverged"},
                                  "infeasible": {"count": 1, "example": "infeasible: lags"}})
    print_failures(r)
    out = buf.getvalue()
    assert "5 complete, 3 failed, 1 pruned" in out
    assert "2 diverged, e.g.: 3 of 3 members diverged" in out
    assert "1 infeasible, e.g.: infeasible: lags" in out
