"""The experiment page: one self-contained HTML page rebuilt from the files that
``write_experiment`` leaves in a folder (``<prefix>summary.json``, ``<prefix>scores.csv``,
``<prefix>history.csv``), one block of sections per study prefix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmtune.errors import ConfigError
from lstmtune.report._experiment import curve_title
from lstmtune.report._html import esc, figure, fmt, note, page, section, table, write_atomic
from lstmtune.report._plots import diagnostics_png, experiment_box_png

__all__ = ["experiment_report", "find_studies", "render_experiment"]

STAT_KEYS = ("count", "mean", "std", "min", "25%", "50%", "75%", "max")
SUMMARY = "summary.json"
TEST_NOTE = ("Scored on the TEST window, as seed 000 does: fine for reproducing it, but do not "
             "select a configuration this way (score on validation, or use lstmtune tune).")


def find_studies(folder: Path) -> list[str]:
    """The study prefixes in ``folder`` (``""`` for a single study), each with a
    ``<prefix>summary.json`` and ``<prefix>scores.csv``; a one-line ConfigError otherwise."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"'{folder}' is not a folder: pass the --out folder of "
                          "`lstmtune experiment`.")
    prefixes = sorted(p.name[: -len(SUMMARY)] for p in folder.glob(f"*{SUMMARY}"))
    if not prefixes:
        raise ConfigError(f"'{folder}' holds no experiment files (no summary.json or "
                          "<prefix>summary.json): pass the --out folder of `lstmtune "
                          "experiment`.")
    missing = [f"{p}scores.csv" for p in prefixes if not (folder / f"{p}scores.csv").is_file()]
    if missing:
        raise ConfigError(f"'{folder}' lacks {', '.join(missing)} beside its summary: "
                          "run `lstmtune experiment` into it again.")
    return prefixes


def _read(folder: Path, prefix: str) -> dict[str, Any]:
    doc = json.loads((folder / f"{prefix}{SUMMARY}").read_text())
    scores = pd.read_csv(folder / f"{prefix}scores.csv", dtype={"label": str})
    hist_path = folder / f"{prefix}history.csv"
    history = pd.read_csv(hist_path, dtype={"label": str}) if hist_path.is_file() else None
    results = doc.get("results") or []
    varied = list((results[0].get("params") or {}) if results else [])
    return {"window": doc.get("window", "?"), "baseline": doc.get("baseline") or {},
            "metric": doc.get("metric", "rmse"), "horizon": doc.get("horizon", 1),
            "results": results, "scores": scores, "history": history, "varied": varied}


def _sid(prefix: str, name: str) -> str:
    return f"{prefix.rstrip('_')}-{name}" if prefix else name


def _num(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _describe(results: list[dict]) -> str:
    rows = [[e["label"] + (" (best)" if e.get("best") else ""),
             *(fmt(_num(e.get(k)), 0 if k == "count" else 3) for k in STAT_KEYS),
             e.get("failed", 0)] for e in results]
    return table(["configuration", *STAT_KEYS, "failed"], rows, left=(0,),
                 row_class=["best" if e.get("best") else "" for e in results])


def _versus(results: list[dict]) -> str:
    rows = []
    for e in results:
        vb = e.get("vs_best") or {}
        rows.append([e["label"] + (" (best)" if e.get("best") else ""), fmt(_num(e.get("mean"))),
                     fmt(_num(vb.get("diff_mean"))),
                     f"[{fmt(_num(vb.get('ci_low')))}, {fmt(_num(vb.get('ci_high')))}]",
                     fmt(_num(vb.get("p_mannwhitney")), 4), fmt(_num(vb.get("p_welch")), 4)])
    return table(["configuration", "mean", "Δ mean", "95% CI", "p Mann-Whitney", "p Welch"],
                 rows, left=(0,), row_class=["best" if e.get("best") else "" for e in results])


def _baselines(baseline: dict[str, dict], metric: str) -> str:
    metrics = sorted({k for b in baseline.values() for k in (b or {})
                      if k not in ("value", "per_step")}, key=lambda k: (k != metric, k))
    rows = [[name, *(fmt(_num((b or {}).get(k))) for k in metrics)]
            for name, b in baseline.items()]
    return table(["baseline", *metrics], rows, left=(0,)) if rows else ""


def _per_step(res: list[dict], baseline: dict[str, dict], label: str) -> str:
    """Each configuration's (mean over repeats) and baseline's error per horizon step."""
    rows = [(e["label"], e["per_step"]) for e in res if e.get("per_step")]
    rows += [(name, b["per_step"]) for name, b in baseline.items() if (b or {}).get("per_step")]
    if not rows:
        return ""
    H = max(len(v) for _, v in rows)
    return (f"<p>{esc(label)} of each horizon step (configurations: mean over repeats):</p>"
            + table(["", *(f"h{h}" for h in range(1, H + 1))],
                    [[name, *(fmt(_num(x)) for x in v)] for name, v in rows], left=(0,)))


def _summary_section(prefix: str, s: dict[str, Any]) -> str:
    res, window = s["results"], s["window"]
    metric = s.get("metric", "rmse")  # summaries written before the metric was a choice
    label, horizon = metric.upper(), s.get("horizon", 1)
    pers = _num((s["baseline"].get("persistence") or {}).get(metric))
    repeats = int(s["scores"].groupby("label").size().max()) if len(s["scores"]) else 0
    what = esc(", ".join(s["varied"]) or "nothing (one configuration)")
    ahead = f", {horizon} steps ahead from every origin" if horizon > 1 else ""
    body = (f"<p>Varied: {what}. {len(res)} configurations × {repeats} repeats, scored by "
            f"{label} on the {esc(window)} window (original units{ahead}). Persistence on the "
            f"same window: {label} <strong>{fmt(pers)}</strong>.</p>")
    if window == "test":
        body += note(TEST_NOTE)
    body += ("<p>Scores of every configuration over its repeats (pandas describe(); std with "
             "ddof 1):</p>" + _describe(res)
             + "<p>Against the best configuration (lowest mean): difference of means with a "
               "bootstrap 95% interval and two-sided p-values.</p>" + _versus(res)
             + f"<p>Baselines on the same {esc(window)} window:</p>"
             + _baselines(s["baseline"], metric) + _per_step(res, s["baseline"], label))
    return section(_sid(prefix, "summary"), _title(prefix, "summary"), body)


def _title(prefix: str, name: str) -> str:
    return f"{prefix.rstrip('_')}: {name}" if prefix else name.capitalize()


def _repeats_section(prefix: str, s: dict[str, Any]) -> str:
    res, sc = s["results"], s["scores"]
    labels = [e["label"] for e in res]
    values = []
    for lab in labels:
        v = pd.to_numeric(sc.loc[sc["label"] == lab, "score"], errors="coerce").to_numpy(float)
        values.append(v[np.isfinite(v)])
    metric = s.get("metric", "rmse")
    pers = _num((s["baseline"].get("persistence") or {}).get(metric))
    sid, title = _sid(prefix, "repeats"), _title(prefix, "repeats")
    if not labels:
        return section(sid, title, note("The summary lists no configuration."))
    png = experiment_box_png(labels, values, persistence=pers, window=s["window"],
                             xlabel=", ".join(s["varied"]), metric=metric.upper())
    cap = (f"{s['window'].capitalize()} {metric.upper()} of every repeat, one box per "
           "configuration "
           "(failed repeats left out); the dashed line is persistence on the same window.")
    return section(sid, title, figure(png, f"box plot {prefix.rstrip('_')}".strip(), cap))


def _curves_section(prefix: str, s: dict[str, Any]) -> str:
    sid, title = _sid(prefix, "curves"), _title(prefix, "curves")
    h = s["history"]
    if h is None or h.empty:
        return section(sid, title, note("No per-epoch curves in this folder (history.csv is "
                                        "missing: run without --no-diagnostics)."))
    panels = []
    order = [e["label"] for e in s["results"]]
    for lab in [*order, *sorted(set(h["label"]) - set(order))]:
        g = h[h["label"] == lab]
        if g.empty:
            continue
        train = g.pivot(index="repeat", columns="epoch", values="train_rmse")
        scored = g.pivot(index="repeat", columns="epoch", values="eval_rmse")
        panels.append((curve_title(s["varied"], lab), train.columns.to_numpy(float),
                       train.to_numpy(float), scored.to_numpy(float)))
    png = diagnostics_png(panels, s["window"])
    cap = (f"Per-epoch RMSE in original units, one panel per configuration: train blue, "
           f"{s['window']} orange, every repeat a line; panels share the y axis.")
    return section(sid, title, figure(png, f"diagnostics {prefix.rstrip('_')}".strip(), cap))


def render_experiment(folder: Path) -> str:
    """The experiment page for ``folder`` as HTML (a pure function of its files)."""
    folder = Path(folder)
    sections = []
    prefixes = find_studies(folder)
    for prefix in prefixes:
        s = _read(folder, prefix)
        sections += [_summary_section(prefix, s), _repeats_section(prefix, s),
                     _curves_section(prefix, s)]
    names = f" ({', '.join(p.rstrip('_') for p in prefixes)})" if prefixes != [""] else ""
    sub = (f"{len(prefixes)} stud{'y' if len(prefixes) == 1 else 'ies'}{names}, rebuilt "
           f"from the files in {folder.resolve().name}")
    return page(f"lstmtune experiment: {folder.resolve().name}", sub, sections)


def experiment_report(folder: Path, out: Path | None = None) -> Path:
    """Write the experiment page built from ``folder``'s files to ``out`` (default
    ``folder/report.html``) atomically; return its path."""
    folder = Path(folder)
    return write_atomic(Path(out) if out is not None else folder / "report.html",
                        render_experiment(folder))
