"""One small function per subcommand: parse nothing, print results."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lstmtune.cli._common import (
    framing_from,
    load_data,
    preprocessing_from,
    print_json,
)
from lstmtune.data import BUILTINS, load, prepare
from lstmtune.evaluation import evaluate_baselines, walk_forward_forecasts

console = Console()


def cmd_datasets(args: argparse.Namespace) -> int:
    """List the built-in datasets with their length and frequency."""
    rows = []
    for name, ds in sorted(BUILTINS.items()):
        n = len(load(name)) if ds.available else None
        rows.append({"name": name, "length": n, "freq": ds.freq, "available": ds.available,
                     "requires": ds.requires, "description": ds.description})
    if args.json:
        print_json(rows)
        return 0
    table = Table(title="Built-in datasets")
    for col in ("name", "length", "freq", "description"):
        table.add_column(col, justify="right" if col == "length" else "left")
    for r in rows:
        length = str(r["length"]) if r["available"] else f"(pip install {r['requires']})"
        table.add_row(r["name"], length, r["freq"], r["description"])
    console.print(table)
    return 0


def _metric_table(title: str, scores: dict[str, dict[str, float]]) -> Table:
    table = Table(title=title)
    metrics = list(next(iter(scores.values())))
    table.add_column("baseline")
    for m in metrics:
        table.add_column(m.upper() if m != "smape" else "sMAPE", justify="right")
    for name, vals in scores.items():
        table.add_row(name, *("—" if math.isnan(v) else f"{v:.3f}" for v in vals.values()))
    return table


def cmd_baseline(args: argparse.Namespace) -> int:
    """Score the persistence, seasonal naive, mean and drift forecasts on the test window,
    walk-forward in original units."""
    ts = load_data(args)
    scores = evaluate_baselines(ts.y, test_size=args.test_size, horizon=args.horizon,
                                season=args.season)
    if args.json:
        print_json(scores)
        return 0
    console.print(_metric_table(
        f"Baselines on '{ts.name}' ({len(ts)} points, test = last {args.test_size}, "
        f"horizon {args.horizon}, season {args.season})", scores))
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    """Check the data and preprocessing end to end and show the framed splits."""
    ts = load_data(args)
    p = prepare(ts, test_size=args.test_size, val_size=args.val_size,
                preprocessing=preprocessing_from(args), framing=framing_from(args))
    parts = {"train": p.train, "validation": p.val, "test": p.test}
    summary = {
        "name": ts.name, "points": len(ts), "freq": ts.freq,
        "start": str(ts.index[0]), "end": str(ts.index[-1]),
        "chain": [type(s).__name__ for s in p.chain.steps],
        "features": ["target", *p.feature_names],
        "splits": {k: {"points": int(sl.stop - sl.start), "samples": len(w),
                       "X_shape": list(w.X.shape), "y_shape": list(w.y.shape)}
                   for (k, w), sl in zip(parts.items(), (p.split.train, p.split.val,
                                                         p.split.test), strict=True)},
    }
    if args.json:
        print_json(summary)
        return 0
    console.print(f"[bold]{ts.name}[/]: {len(ts)} points from {summary['start']} to "
                  f"{summary['end']} (freq {ts.freq}); transforms: "
                  f"{' → '.join(summary['chain']) or 'none'}; inputs: "
                  f"{', '.join(summary['features'])}")
    table = Table(title="Splits (transforms fitted on train only)")
    for col in ("split", "points", "samples", "X (S, T, F)", "y (S, H)"):
        table.add_column(col, justify="left" if col == "split" else "right")
    for k, v in summary["splits"].items():
        table.add_row(k, str(v["points"]), str(v["samples"]), str(tuple(v["X_shape"])),
                      str(tuple(v["y_shape"])))
    console.print(table)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the main job on the built-in Shampoo data and write a report folder: the
    baselines, then seed 000's model with 1, 2 and 4 units, 30 repeats each, scored on a
    validation window (the test window is never seen)."""
    from lstmtune.experiment import (
        TUTORIAL_FIXED,
        ExperimentSpec,
        describe_table,
        run_experiment,
        summarize,
    )
    from lstmtune.report import baseline_report, write_experiment
    from lstmtune.report._baseline import png_tag

    out = Path(args.out)
    ts = load("shampoo")
    scores = evaluate_baselines(ts.y, test_size=12)
    table = walk_forward_forecasts(ts.y, test_size=12)
    console.print(_metric_table("Baselines on Shampoo Sales (test = last 12 months)", scores))
    console.print(f"Persistence RMSE {scores['persistence']['rmse']:.3f} "
                  "(seed 000 publishes 136.761).")
    fixed = tuple((k, v) for k, v in TUTORIAL_FIXED.items() if k != "units")
    spec = ExperimentSpec(vary=(("units", (1, 2, 4)),), fixed=fixed, repeats=30,
                          score_on="validation", test_size=12, val_size=6, trim_start=None)
    console.print("Training 3 configurations × 30 repeats (one population per shape)...")
    result = run_experiment(ts, spec)
    summary = summarize(result)
    files = write_experiment(result, summary, out / "experiment")
    desc = describe_table(summary)
    console.print(f"Validation RMSE (last 6 months before the test window), 30 repeats each, "
                  f"{result.wall_seconds:.1f} s:")
    console.print(desc.round(3).to_string())
    boxplot = next(f for f in files if f.name == "boxplot.png").read_bytes()
    extra = [("Experiment: units 1, 2, 4 (validation window, 30 repeats)",
              desc.round(3).to_html(border=0) + png_tag(boxplot, "box plot"))]
    path = baseline_report(ts, scores, table, out, extra=extra)
    console.print(f"Report written to [bold]{path}[/] (files in {out / 'experiment'})")
    return 0


__all__ = ["cmd_datasets", "cmd_baseline", "cmd_prepare", "cmd_demo"]
