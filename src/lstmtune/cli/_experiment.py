"""`lstmtune experiment`: seed 000's method — vary, repeat, compare distributions."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lstmtune._files import check_output_dir, make_dir, remove_stale_temps
from lstmtune.cli._common import load_data, print_json, size, step_table, whole
from lstmtune.errors import ConfigError
from lstmtune.evaluation import METRICS
from lstmtune.experiment import (
    PARAMS,
    ExperimentSpec,
    check_experiment,
    describe_table,
    parse_assignment,
    published,
    recipe_specs,
    run_experiment,
    summarize,
)
from lstmtune.report import experiment_report, write_experiment

console = Console()
err = Console(stderr=True)
TEST_WARNING = ("scored on the TEST window, as seed 000 does: fine for reproducing it, but do "
                "not select a configuration this way (run without --recipe, with --score-on "
                "validation, or use lstmtune tune).")


def add_experiment_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("experiment")
    g.add_argument("--vary", action="append", default=[], metavar="NAME=V1,V2",
                   help="values to compare (repeatable: the full factorial is run); names: "
                        + ", ".join(PARAMS))
    g.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a hyperparameter (repeatable)")
    g.add_argument("--repeats", type=whole(1, 1_000), metavar="R",
                   help="trainings per configuration, each from its own seed (default 30)")
    g.add_argument("--score-on", choices=("validation", "test"), default=None,
                   help="validation (default): the test window is cut off and never seen; "
                        "test: seed 000's protocol, not for selection")
    g.add_argument("--val-size", type=size(1), metavar="N",
                   help="validation window: a count or a fraction (default: the test size)")
    g.add_argument("--metric", choices=tuple(METRICS), default="rmse",
                   help="score of every repeat and baseline: rmse (default), mae, mape, smape "
                        "or mase (scaled by the training part's seasonal naive)")
    g.add_argument("--recipe", choices=("tutorial",),
                   help="seed 000's three studies, printed beside the published tables")
    g.add_argument("--seed", type=whole(0, 2**31 - 1), default=0,
                   help="seed of repeat 0 (default 0)")
    g.add_argument("--no-diagnostics", action="store_true",
                   help="skip the per-epoch curves (faster, no diagnostic plots)")
    g.add_argument("--out", default="lstmtune-out/experiment", metavar="DIR",
                   help="folder for scores.csv, boxplot.png, diagnostic_*.png, summary.json")
    g.add_argument("--json", action="store_true", help="print the results as one JSON object")


def _specs(args: argparse.Namespace):
    vary = tuple(parse_assignment(v, many=True) for v in args.vary)
    fixed = tuple((n, vals[0]) for n, vals in (parse_assignment(s, many=False)
                                                for s in args.set))
    if args.recipe:
        if args.score_on == "validation":
            raise ConfigError("--recipe tutorial scores on the test window as published; drop "
                              "--score-on validation or drop the recipe.")
        return recipe_specs(args.recipe, vary=vary, fixed=fixed, repeats=args.repeats,
                            seed=args.seed, diagnostics=not args.no_diagnostics)
    if not vary:
        raise ConfigError("nothing to compare: give at least one --vary NAME=V1,V2 (e.g. "
                          "--vary units=1,2,4), or --recipe tutorial.")
    spec = ExperimentSpec(vary=vary, fixed=fixed, repeats=args.repeats or 30,
                          score_on=args.score_on or "validation", test_size=args.test_size,
                          val_size=args.val_size, seed=args.seed,
                          diagnostics=not args.no_diagnostics, metric=args.metric)
    return [(spec, None)]


def _fmt(x: float, nd: int = 3) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def _print_study(result, summary, pub: dict | None) -> None:
    table = describe_table(summary)
    what = ", ".join(result.spec.varied)
    task = result.spec.task
    steps = f", {task.horizon} steps ahead" if task.horizon > 1 else ""
    t = Table(title=f"{result.window} {task.label}{steps} over {result.spec.repeats} repeats, "
              f"varying {what}"
              + ("  (ours / published)" if pub else ""))
    t.add_column("")
    for label in table.columns:
        t.add_column(label, justify="right")
    for stat, row in table.iterrows():
        cells = []
        for label, v in row.items():
            ours = _fmt(v, 0 if stat == "count" else 3)
            ref = pub.get(str(label), {}).get(stat) if pub else None
            nd = 0 if stat == "count" else 3
            cells.append(ours if ref is None else f"{ours} / {_fmt(ref, nd)}")
        t.add_row(str(stat), *cells)
    console.print(t)
    c = Table(title="Against the best configuration (lowest mean): mean difference, bootstrap "
                    "95% interval, two-sided p-values")
    for col in ("config", "mean", "Δ mean", "95% CI", "p Mann-Whitney", "p Welch", "failed"):
        c.add_column(col, justify="left" if col == "config" else "right")
    for e in summary:
        vb = e["vs_best"] or dict.fromkeys(("diff_mean", "ci_low", "ci_high", "p_mannwhitney",
                                            "p_welch"), float("nan"))
        c.add_row(e["label"] + (" (best)" if e["best"] else ""), _fmt(e["mean"]),
                  _fmt(vb["diff_mean"]), f"[{_fmt(vb['ci_low'])}, {_fmt(vb['ci_high'])}]",
                  _fmt(vb["p_mannwhitney"], 4), _fmt(vb["p_welch"], 4), str(e["failed"]))
    console.print(c)
    if task.horizon > 1:
        console.print(step_table(f"{task.label} per horizon step",
                                 {e["label"]: e["per_step"] for e in summary if "per_step" in e},
                                 result.baseline))
    console.print(f"Persistence on the same {result.window} window: {task.label} "
                  f"{result.baseline['persistence'][task.metric]:.3f}.  "
                  f"{result.populations} population(s), {result.wall_seconds:.1f} s.")


def cmd_experiment(args: argparse.Namespace) -> int:
    """Vary hyperparameters, train every configuration R times (all at once), and compare the
    distributions of their scores: describe() tables, box plots, per-epoch diagnostics."""
    specs = _specs(args)
    out = check_output_dir(Path(args.out))
    imputes = any(c["impute"] != "none" for spec, _ in specs for c in spec.configs())
    ts = load_data(args, allow_missing=imputes)
    remove_stale_temps(out)  # left by a save that was killed (none when out is new)
    for spec, _ in specs:  # every refusal before the first training
        check_experiment(ts, spec)
    make_dir(out)
    studies = []
    for spec, study in specs:
        if not args.json:
            err.print(f"[dim]experiment: varying {', '.join(spec.varied)} "
                      f"({len(spec.configs())} configurations × {spec.repeats} repeats)[/]")
        result = run_experiment(ts, spec, progress=lambda m: err.print(f"[dim]  {m}[/]"))
        summary = summarize(result)
        pub = published(study) if study and ts.name == "shampoo" else None
        prefix = f"{'_'.join(spec.varied)}_" if len(specs) > 1 else ""
        files = write_experiment(result, summary, out, prefix=prefix)
        studies.append({"vary": ", ".join(spec.varied), "window": result.window,
                        "metric": spec.metric, "horizon": spec.task.horizon,
                        "baseline": result.baseline, "results": summary,
                        "files": [str(f) for f in files],
                        "wall_seconds": result.wall_seconds,
                        **({"published": pub} if pub else {})})
        if not args.json:
            _print_study(result, summary, pub)
            if result.window == "test":
                console.print(f"[bold yellow]Note:[/] {TEST_WARNING}")
    report = experiment_report(out)
    if args.json:
        print_json({"studies": studies, "report": str(report)} if args.recipe else
                   {**studies[0], "report": str(report)})
    else:
        console.print(f"Files written to [bold]{out}[/]; report: [bold]{report}[/]")
    return 0


__all__ = ["add_experiment_options", "cmd_experiment"]
