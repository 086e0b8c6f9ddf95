"""The study report: one self-contained HTML page drawn from :class:`StudyTables` alone.

Sections (``<section id>``): summary, leaderboard, best, repeats, curves, history, importance,
parallel, forecast, residuals, members. Every plot is an embedded PNG; the page loads nothing
from the network.

The page stays under about 1 MB whatever the trial count: plots of every trial draw a bounded
sample (see ``_plots``; their captions say what was drawn), the table of trials lists at most
``TRIAL_ROWS`` of them (the best and the most recent beyond that), failure reasons are
grouped. Failed (diverged) members, with a NaN score, are counted apart and never averaged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmtune.report import _plots as plots
from lstmtune.report._html import (
    esc,
    figure,
    fmt,
    kv,
    mean_std,
    note,
    page,
    section,
    table,
    write_atomic,
)
from lstmtune.report._tables import StudyTables

__all__ = ["render_study", "write_study_report", "SECTIONS"]

SECTIONS = ("summary", "verdict", "leaderboard", "best", "repeats", "curves", "history",
            "importance", "parallel", "forecast", "residuals", "members")
TOP = 10
TRIAL_ROWS = 300  # the table of trials lists every trial up to this many; above, ...
TRIAL_BEST = TRIAL_LATEST = 150  # ... the best complete ones and the most recent ones
FAIL_REASONS = 10  # distinct failure reasons listed; the rest are counted together
FAILED = "failed"  # how a failed (diverged) member's score is shown
NO_FINAL = ("This study has no final evaluation yet (the best configuration has not been "
            "retrained and scored on the test window), so there is nothing to show here.")


def param_text(value: Any) -> str:
    """A hyperparameter value: floats to 4 significant digits, missing as an en dash."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, float | np.floating) and not isinstance(value, bool):
        return f"{float(value):.4g}"
    return str(value)


def _seconds(s: Any) -> str:
    if s is None or not np.isfinite(s):
        return "–"
    return f"{s:.1f} s" if s < 120 else f"{int(s // 60)} min {s % 60:.0f} s"


def _complete(trials: pd.DataFrame) -> pd.DataFrame:
    """Complete trials, best first (by ``loss``: the value, negated when maximised)."""
    done = trials[trials["state"] == "COMPLETE"]
    done = done[np.isfinite(pd.to_numeric(done["value"], errors="coerce"))]
    return done.assign(_rank=plots.loss(done)).sort_values(["_rank", "number"]) \
        .drop(columns="_rank")


def _counts(trials: pd.DataFrame) -> dict[str, int]:
    c = trials["state"].value_counts() if not trials.empty else pd.Series(dtype=int)
    return {s: int(c.get(s, 0)) for s in ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")}


def _fail_reasons(trials: pd.DataFrame) -> list[tuple[str, int]]:
    """(reason, trials) of the failed trials, most frequent first (ties by reason); at most
    ``FAIL_REASONS`` rows, the rarer reasons counted together in a last row."""
    failed = trials[trials["state"] == "FAIL"] if not trials.empty else trials
    if failed.empty:
        return []
    reasons = failed["fail_reason"].fillna("no reason stored").astype(str) \
        if "fail_reason" in failed else pd.Series("no reason stored", index=failed.index)
    c = reasons.value_counts()
    c = c.iloc[np.lexsort((c.index.to_numpy(str), -c.to_numpy()))]
    rows = [(str(r), int(k)) for r, k in c.head(FAIL_REASONS).items()]
    if len(c) > FAIL_REASONS:
        rows.append((f"{len(c) - FAIL_REASONS} other reasons", int(c.iloc[FAIL_REASONS:].sum())))
    return rows


def _member_failures(members: pd.DataFrame, trials: pd.DataFrame) -> str | None:
    """"X of Y member scores failed …" when some did, else None."""
    if members.empty:
        return None
    bad = ~np.isfinite(members["score"].to_numpy(float))
    if not bad.any():
        return None
    hit = members.loc[bad, "trial"].unique()
    complete = int(trials.loc[trials["number"].isin(hit), "state"].eq("COMPLETE").sum()) \
        if not trials.empty else 0
    return (f"{int(bad.sum()):,} of {bad.size:,} member scores failed (diverged: no score), "
            f"in {hit.size:,} trials ({complete:,} of them complete, valued on their other "
            "members)")


def _summary(t: StudyTables) -> str:
    m, d, s = t.meta, t.meta.get("data") or {}, t.meta.get("split") or {}
    n = _counts(t.trials)
    span = " – ".join(str(x) for x in (d.get("start"), d.get("end")) if x is not None)
    states = f"{n['COMPLETE']} complete, {n['PRUNED']} pruned, {n['FAIL']} failed" + \
        "".join(f", {n[k]} {k.lower()}" for k in ("RUNNING", "WAITING") if n[k])
    window = (lambda w: " – ".join(map(str, w)) if w else "–")  # noqa: E731
    pairs = [
        ("data", f"{d.get('name', '–')}: {d.get('n', '–')} points, {span or '–'}, "
                 f"frequency {d.get('freq') or '–'}"),
        ("split", f"test {s.get('test_size', '–')} points ({window(s.get('test'))}), "
                  f"validation {s.get('val_size', '–')} points ({window(s.get('val'))}), "
                  f"{s.get('folds', '–')} walk-forward folds"),
        ("protocol", f"{m.get('repeats', '–')} repeats × {m.get('folds', '–')} folds per trial, "
                     f"aggregate {m.get('aggregate') or '–'}; final evaluation "
                     f"{m.get('final_repeats') or '–'} repeats; seed {m.get('seed', '–')}"),
        ("search", f"strategy {m.get('strategy') or '–'}, pruner {m.get('pruner') or 'none'}, "
                   f"budget {m.get('trials') or '–'} trials"),
        ("trials", f"{len(t.trials)}: {states}"),
        *((("members", mf),) if (mf := _member_failures(t.members, t.trials)) else ()),
        ("wall time", _seconds(m.get("wall_seconds"))),
        ("lstmtune", f"version {m.get('lstmtune_version') or '–'}, created "
                     f"{m.get('created') or '–'}"),
    ]
    space = m.get("space") or {}
    rows = [(k, v, "searched") for k, v in space.items()] + \
        [(k, param_text(v), "fixed") for k, v in (m.get("fixed") or {}).items()]
    body = kv(pairs)
    reasons = _fail_reasons(t.trials)
    if reasons:
        body += (f"<p>Failed trials ({n['FAIL']:,}) by reason:</p>"
                 + table(["reason", "trials"], reasons, left=(0,)))
    if rows:
        body += table(["hyperparameter", "values", ""], rows, left=(0, 1, 2))
    return section("summary", "Summary", body)


def _member_stats(members: pd.DataFrame, trial: int) -> tuple[float, float, str]:
    if members.empty:
        return np.nan, np.nan, "0"
    s = members.loc[members["trial"] == trial, "score"].to_numpy(float)
    f = s[np.isfinite(s)]
    n = str(f.size) if f.size == s.size else f"{f.size} ({s.size - f.size} {FAILED})"
    return (float(f.mean()) if f.size else np.nan,
            float(f.std(ddof=1)) if f.size > 1 else np.nan, n)


def _leaderboard(t: StudyTables) -> str:
    top = _complete(t.trials).head(TOP)
    if top.empty:
        return section("leaderboard", "Leaderboard", note("No trial has completed."))
    rows = []
    for rank, (_, r) in enumerate(top.iterrows(), 1):
        mean, std, n = _member_stats(t.members, int(r["number"]))
        rows.append([rank, int(r["number"]), fmt(r["value"]), mean_std(mean, std), n,
                     *(param_text(r[f"param_{p}"]) for p in t.params)])
    agg = t.meta.get("aggregate") or "aggregate"
    body = (f"<p>The {len(top)} best complete trials by value (the {esc(agg)} of their "
            f"validation {_label(t)} over repeats × folds; {_better(t)} is better), with the "
            "mean ± "
            "standard "
            "deviation and number of their member scores; members that failed (diverged, no "
            "score) are left out of both and counted in brackets.</p>"
            + table(["rank", "trial", "value", "members mean ± std", "n", *t.params], rows,
                    left=range(5, 5 + len(t.params)),
                    row_class=["best"]))
    return section("leaderboard", "Leaderboard", body)


def _params_table(best: dict[str, Any], fixed: dict[str, Any]) -> str:
    rows = [(k, param_text(v), "searched") for k, v in best.items()]
    rows += [(k, param_text(v), "fixed") for k, v in fixed.items() if k not in best]
    return table(["hyperparameter", "value", ""], rows, left=(0, 1, 2)) if rows else ""


def _pooled_top(test: dict[str, Any]) -> dict[str, Any]:
    """The test scores of the ``ensemble_top`` configurations pooled, when more than one
    was (else empty)."""
    top = test.get("top") or {}
    return top if top.get("k", 1) > 1 else {}


def _best(t: StudyTables) -> str:
    fixed = t.meta.get("fixed") or {}
    if t.final is None:
        done = _complete(t.trials)
        body = note(NO_FINAL)
        if not done.empty:
            r = done.iloc[0]
            body += (f"<p>Best trial so far on validation: #{int(r['number'])}, value "
                     f"{esc(fmt(r['value']))}.</p>"
                     + _params_table({p: r[f"param_{p}"] for p in t.params}, fixed))
        return section("best", "Best configuration", body)
    f = t.final
    test = f.get("test") or {}
    split = t.meta.get("split") or {}
    window = split.get("test")
    where = f" ({esc(' – '.join(map(str, window)))})" if window else ""
    rows = [[f"LSTM, trial #{f.get('best_trial')} ({test.get('repeats', '–')} repeats"
             + (f", {test['failed']} failed" if test.get("failed") else "") + ")",
             mean_std(test.get("value", test.get("rmse")), test.get("std", test.get("rmse_std")))]]
    ens, top = test.get("ensemble") or {}, _pooled_top(test)
    if ens:
        rows.append([f"LSTM, the {ens.get('combine')} of its members' forecasts"
                     + ("" if top else " (what predict gives)"), fmt(ens.get("value"))])
    if top:
        rows.append([f"LSTM, the {top.get('combine')} of the {top.get('members')} members of "
                     f"the {top.get('k')} best configurations (trials "
                     f"{', '.join(map(str, top.get('trials') or []))}; what predict gives)",
                     fmt(top.get("value"))])
    rows += [[name, fmt((b or {}).get("value", (b or {}).get("rmse")))]
             for name, b in (f.get("baselines") or {}).items()]
    label, horizon = _label(t), f.get("horizon", 1)
    ahead = (f"{horizon} steps ahead from every origin (each origin's forecast made with the "
             "actuals up to it), every step scored") if horizon > 1 else "one step ahead"
    body = (f"<p>Selected on validation: trial #{esc(f.get('best_trial'))}, value "
            f"{esc(fmt(f.get('best_value')))}. Retrained on train + validation "
            f"{esc(test.get('repeats', '–'))} times with different initial weights.</p>"
            + _params_table(f.get("best_params") or {}, fixed)
            + f"<p>The test window{where} was scored <strong>once</strong>, after the search "
              f"had selected this configuration; it played no part in the selection. Test {label} "
              "of the LSTM is the mean ± standard deviation over its repeats (each member "
              "scored alone)"
            + (f", then the score of their {esc(ens.get('combine'))} forecast"
               + (f", and of the {esc(top.get('k'))} best configurations' pooled members, "
                  "the forecast the verdict judges" if top
                  else ", the one the verdict judges") if ens else "")
            + "; it and the "
              f"baselines forecast the same window walk-forward, {ahead}.</p>"
            + table(["model", f"test {label}"], rows, left=(0,), row_class=["best"])
            + _per_step(test, f.get("baselines") or {}, label)
            + _test_members(test, label))
    return section("best", "Best configuration", body)


def verdict_section(t: StudyTables) -> str:
    """Who won on test, in one plain sentence (stored by the final evaluation; a study
    without one, or made before the verdict, says so)."""
    if t.final is None:
        return section("verdict", "Verdict", note(NO_FINAL))
    v = t.final.get("verdict") or {}
    if not v.get("text"):
        return section("verdict", "Verdict", note(
            "This study's final evaluation was made before lstmtune gave a verdict; the "
            "test table below compares the tuned LSTM with the baselines."))
    won = " won" if v.get("winner") == "lstm" else ""
    model = (t.final or {}).get("model") or {}
    refit = {True: " The saved model (the one <code>predict</code> uses) was then trained "
                   "again on all the data with the same settings; every test score here is the "
                   "held-out members'.",
             False: " The saved model is the members scored on test (refit off)."}.get(
        model.get("refit"), "")
    return section("verdict", "Verdict",
                   f'<p class="verdict{won}"><strong>{esc(v["text"])}</strong>{refit}</p>')


def _better(t: StudyTables) -> str:
    return "higher" if t.meta.get("direction") == "maximize" else "lower"


def _label(t: StudyTables) -> str:
    """The study's metric as tables name it (RMSE for studies made before it was a choice)."""
    metric = str(t.meta.get("metric") or "rmse")
    return {"pr_auc": "PR-AUC", "roc_auc": "ROC-AUC", "log_loss": "log loss"}.get(
        metric, metric.upper())


def _per_step(test: dict[str, Any], baselines: dict[str, Any], label: str) -> str:
    """The test error of each horizon step: the LSTM (mean over repeats) and each baseline."""
    steps = test.get("per_step") or []
    if len(steps) < 2:
        return ""
    rows = [["LSTM (mean over repeats)", *(fmt(x) for x in steps)]]
    ens, top = test.get("ensemble") or {}, _pooled_top(test)
    if ens.get("per_step"):
        rows.append([f"LSTM, {ens.get('combine')} forecast",
                     *(fmt(x) for x in ens["per_step"])])
    if top.get("per_step"):
        rows.append([f"LSTM, {top.get('k')} best, {top.get('combine')}",
                     *(fmt(x) for x in top["per_step"])])
    rows += [[name, *(fmt(x) for x in (b or {}).get("per_step") or [])]
             for name, b in baselines.items()]
    return (f"<p>Test {label} of each horizon step:</p>"
            + table(["", *(f"h{h}" for h in range(1, len(steps) + 1))], rows, left=(0,),
                    row_class=["best"]))


def _test_members(test: dict[str, Any], label: str = "RMSE") -> str:
    """Every retrained member's test score; a failed (diverged) member says so, no number."""
    scores = test.get("scores") or []
    if not scores:
        return ""
    ok = [s is not None and np.isfinite(float(s)) for s in scores]
    bad = len(ok) - sum(ok)
    rows = [[k, fmt(float(s)) if good else f"{FAILED} (diverged)"]
            for k, (s, good) in enumerate(zip(scores, ok, strict=True))]
    what = f"{len(scores)} members" + (f", {bad} {FAILED}" if bad else "")
    return (f"<details><summary>Test {label} of each member ({what})</summary>"
            + (note(f"{bad} failed member(s) diverged: they have no score and are left out of "
                    "the mean ± std above.") if bad else "")
            + table(["member", f"test {label}"], rows) + "</details>")


def _plot_section(sid: str, title: str, png: bytes | None, alt: str, caption: str,
                  empty: str) -> str:
    return section(sid, title, figure(png, alt, caption) if png else note(empty))


def _repeats(t: StudyTables) -> str:
    png = plots.repeats_png(t.trials, t.members, TOP, metric=_label(t))
    top = _complete(t.trials).head(TOP)
    k = len(top)
    s = t.members.loc[t.members["trial"].isin(top["number"]), "score"].to_numpy(float) \
        if not t.members.empty else np.empty(0)
    bad = int((~np.isfinite(s)).sum())
    cap = (f"Member scores (validation {_label(t)}, {t.meta.get('repeats', '?')} repeats × "
           f"{t.meta.get('folds', '?')} folds) of the {k} best complete trials, best first: "
           "the box spans the quartiles, whiskers reach 1.5 IQR, dots are the members and the "
           "red diamond is the trial's value. The spread within a box is what initial weights "
           "and folds alone change."
           + (f" {bad} failed (diverged) member(s) have no score: they are not drawn, and the "
              "label under a trial says how many of its members failed." if bad else ""))
    return _plot_section("repeats", "Repeats of the best trials", png, "repeat box plots", cap,
                         "No member scores of complete trials are stored.")


def _curves(t: StudyTables) -> str:
    if t.final is None:
        return section("curves", "Learning curves", note(NO_FINAL))
    cap = ("Per-epoch RMSE of the best configuration on the validation folds, in original "
           "units: every repeat × fold a thin line, train blue, validation orange. Curves "
           "that part show over-fitting; a wide bundle shows sensitivity to initial weights.")
    return _plot_section("curves", "Learning curves", plots.curves_png(t.history),
                         "learning curves", cap, "No per-epoch curves were stored.")


def _history(t: StudyTables) -> str:
    n = _counts(t.trials)
    done = len(_complete(t.trials))
    drawn = plots.sample_phrase(done)
    cap = (f"Value of each complete trial ({n['COMPLETE']:,}) by trial number, with the best "
           f"so far (over all of them) as a red step line; {n['PRUNED']:,} pruned and "
           f"{n['FAIL']:,} failed trials have no value and are marked along the bottom edge."
           + (f" Dots drawn: {drawn}." if drawn else "")
           + (f" Marks drawn: a random {plots.MARKS:,} of each state where there are more."
              if max(n["PRUNED"], n["FAIL"]) > plots.MARKS else ""))
    return _plot_section("history", "Optimisation history",
                         plots.history_png(t.trials, metric=_label(t)),
                         "optimisation history", cap, "The study has no trials.")


def _importance(t: StudyTables) -> str:
    why = t.meta.get("importance_note") or "No importance was computed."
    used = t.meta.get("importance_trials") or {}
    over = "the complete trials"
    if used.get("used") and used.get("complete") and used["used"] < used["complete"]:
        over = (f"a random {used['used']:,} of the {used['complete']:,} complete trials, "
                "seed 0")
    cap = ("Share of the variance of the trial value explained by each hyperparameter "
           f"(fANOVA over {over}); it describes this search's trials, not a law.")
    return _plot_section("importance", "Hyperparameter importance",
                         plots.importance_png(t.importance), "importance", cap, why)


def _parallel(t: StudyTables) -> str:
    par = plots.parallel_png(t.trials, t.params)
    if par is None:
        return section("parallel", "Parameters and value", note("No trial has completed."))
    drawn = plots.sample_phrase(len(_complete(t.trials)))
    which = drawn or "the complete trials"
    body = figure(par, "parallel coordinates",
                  f"Parallel coordinates of {which}: one vertical axis per "
                  "hyperparameter, scaled to its range (log scale when its values span more "
                  "than two decades; categories evenly spaced), and the value; lines are "
                  "coloured by value, darker is better, the best in red.")
    sl = plots.slices_png(t.trials, t.params)
    if sl is not None:
        body += figure(sl, "slice plots", "Value against each hyperparameter, one dot per "
                       + (f"complete trial ({drawn})" if drawn else "complete trial")
                       + ", darker dots later in the search.")
    return section("parallel", "Parameters and value", body)


def _forecast(t: StudyTables) -> str:
    if t.final is None:
        return section("forecast", "Test-window forecast", note(NO_FINAL))
    iv = t.final.get("interval") or {}
    lo, hi = iv.get("low_q", 0.05), iv.get("high_q", 0.95)
    test = t.final.get("test") or {}
    r, bad = test.get("repeats", "R"), test.get("failed") or 0
    used = f"{r - bad} members that did not fail" if bad and isinstance(r, int) else \
        f"{r} ensemble members"
    cap = (f"The test window (grey) after the series before it: actual values (black), the "
           f"mean of the {used} (blue) and, shaded, the {lo:.0%}–{hi:.0%} "
           f"quantiles of the members. The band is the spread of the {r} repeat members, i.e. "
           "the variance due to initial weights; it is not a prediction interval. Baselines "
           "are thin lines."
           + (f" {bad} member(s) diverged: they have no forecast and are left out." if bad
              else ""))
    return _plot_section("forecast", "Test-window forecast",
                         plots.forecast_png(t.forecast, t.context), "test forecast", cap,
                         "No forecast table was stored.")


def _residuals(t: StudyTables) -> str:
    if t.final is None:
        return section("residuals", "Residuals", note(NO_FINAL))
    fc = t.forecast
    png = plots.residuals_png(fc)
    if png is None:
        return section("residuals", "Residuals", note("No forecast table was stored."))
    res = fc["actual"].to_numpy(float) - fc["mean"].to_numpy(float)
    res = res[np.isfinite(res)]
    stats = (f"Mean residual (bias) {fmt(res.mean() if res.size else np.nan)}, RMSE of the "
             f"ensemble mean {fmt(np.sqrt(np.mean(res ** 2)) if res.size else np.nan)}.")
    cap = ("Left: actual − ensemble mean at each test step (bars) and actual − each member "
           "(dots); right: histogram of the members' residuals, the mean residual in red. "
           + stats)
    return section("residuals", "Residuals", figure(png, "residuals", cap))


def _listed(trials: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The trials the table lists, by number, and its summary line."""
    if len(trials) <= TRIAL_ROWS:
        return trials.sort_values("number"), f"All {len(trials)} trials"
    best = _complete(trials).head(TRIAL_BEST)["number"]
    latest = trials["number"].nlargest(TRIAL_LATEST)
    shown = trials[trials["number"].isin(best) | trials["number"].isin(latest)]
    return shown.sort_values("number"), (
        f"{len(shown):,} of the {len(trials):,} trials: the {len(best):,} best complete "
        f"trials and the {TRIAL_LATEST:,} most recent (every trial is in the study's storage)")


def _members(t: StudyTables) -> str:
    tr, what = _listed(t.trials) if not t.trials.empty else (t.trials, "All 0 trials")
    cols = [f"param_{p}" for p in t.params]
    reason = tr["fail_reason"] if "fail_reason" in tr else pd.Series(None, index=tr.index)
    rows = [[int(num), state, fmt(value), fmt(dur, 1), *(param_text(v) for v in ps),
             why if isinstance(why, str) else ""]
            for num, state, value, dur, why, *ps in zip(
                tr["number"], tr["state"], tr["value"], tr["duration_s"], reason,
                *(tr[c] for c in cols), strict=True)]
    tab = table(["trial", "state", "value", "duration (s)", *t.params, "fail reason"], rows,
                left=[1, *range(4, 5 + len(t.params))])
    body = f"<details><summary>{esc(what)}</summary>{tab}</details>"
    return section("members", "Trials", body)


BUILDERS: tuple[Callable[[StudyTables], str], ...] = (
    _summary, verdict_section, _leaderboard, _best, _repeats, _curves, _history, _importance,
    _parallel, _forecast, _residuals, _members)


def _builders(tables: StudyTables) -> tuple[Callable[[StudyTables], str], ...]:
    """The sections of the study's task: forecasting's, classification's or a panel's (which
    share the leaderboard, repeats, history, importance and trials sections)."""
    generic = {"leaderboard": _leaderboard, "repeats": _repeats, "history": _history,
               "importance": _importance, "parallel": _parallel, "members": _members,
               "verdict": verdict_section}
    if tables.meta.get("task") == "classify":
        from lstmtune.report._classify import classification_sections

        return classification_sections(generic)
    if tables.meta.get("task") == "panel":
        from lstmtune.report._panel import panel_sections

        return panel_sections(generic)
    return BUILDERS


def render_study(tables: StudyTables) -> str:
    """The study report as one self-contained HTML page (a pure function of ``tables``)."""
    m = tables.meta
    title = f"lstmtune study: {m.get('study_name') or 'unnamed'}"
    sub = (f"{(m.get('data') or {}).get('name') or 'data'} · strategy "
           f"{m.get('strategy') or '–'} · {len(tables.trials)} trials · "
           f"{'created ' + str(m['created']) if m.get('created') else 'no final evaluation'}")
    return page(title, sub, (build(tables) for build in _builders(tables)))


def write_study_report(tables: StudyTables, path: Path) -> Path:
    """Render and write the report to ``path`` atomically (parents created); return it."""
    return write_atomic(Path(path), render_study(tables))
