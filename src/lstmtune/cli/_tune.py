"""`lstmtune tune` and `lstmtune compare`: searches on Optuna, trained as populations."""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from lstmtune.cli._common import print_json
from lstmtune.data import load
from lstmtune.errors import ConfigError
from lstmtune.search import STRATEGIES, StudyConfig, load_study_file, study_from_dict, tune

console = Console()
err = Console(stderr=True)


def add_tune_options(p: argparse.ArgumentParser, *, compare: bool = False) -> None:
    p.add_argument("source", metavar="STUDY.toml|DATA",
                   help="a TOML study file, or data (built-in name, CSV/Parquet) searched with "
                        "the default space")
    g = p.add_argument_group("data (when DATA is given)")
    g.add_argument("--time-col", metavar="C")
    g.add_argument("--target", metavar="C")
    g.add_argument("--freq", metavar="F")
    g.add_argument("--test-size", type=int, metavar="N", help="final test window (default 12)")
    g.add_argument("--val-size", type=int, metavar="N", help="validation window")
    g.add_argument("--folds", type=int, metavar="K", help="walk-forward folds over validation")
    g = p.add_argument_group("search (override the study file)")
    if compare:
        g.add_argument("--strategies", default="random,tpe,gp,hyperband,ga,hybrid",
                       metavar="S1,S2", help="strategies to compare with the same budget")
        g.add_argument("--budget", type=int, metavar="N", help="trials per strategy")
    else:
        g.add_argument("--strategy", choices=STRATEGIES)
        g.add_argument("--trials", type=int, metavar="N")
    g.add_argument("--repeats", type=int, metavar="R", help="trainings per candidate and fold")
    g.add_argument("--final-repeats", type=int, metavar="R",
                   help="retrainings of the best, scored on test (default 30)")
    g.add_argument("--timeout", type=float, metavar="S", help="stop asking after S seconds")
    g.add_argument("--seed", type=int, metavar="N")
    g.add_argument("--storage", metavar="URL",
                   help="SQLAlchemy URL (default: sqlite file in --out)")
    g.add_argument("--study-name", metavar="NAME")
    g.add_argument("--out", default="lstmtune-out/tune", metavar="DIR")
    g.add_argument("--json", action="store_true", help="print the result as one JSON object")


def _config(args: argparse.Namespace) -> StudyConfig:
    src = args.source
    if src.endswith(".toml"):
        cfg = load_study_file(src)
    else:
        cfg = study_from_dict({"data": {"source": src}})
    data = cfg.data
    data = replace(data, **{k: v for k, v in (("time_col", args.time_col),
                                              ("target", args.target), ("freq", args.freq),
                                              ("test_size", args.test_size),
                                              ("val_size", args.val_size),
                                              ("folds", args.folds)) if v is not None})
    over = {k: getattr(args, k, None) for k in ("strategy", "trials", "repeats", "timeout",
                                                 "seed", "final_repeats")}
    search = replace(cfg.search, **{k: v for k, v in over.items() if v is not None})
    for k in ("trials", "repeats", "final_repeats"):
        if getattr(search, k) < 1:
            raise ConfigError(f"--{k.replace('_', '-')} must be >= 1, got {getattr(search, k)}.")
    return replace(cfg, data=data, search=search)


def _storage(args: argparse.Namespace, out: Path) -> str:
    if args.storage:
        return args.storage
    out.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(out / 'study.db').resolve()}"


def _load(cfg: StudyConfig):
    d = cfg.data
    return load(d.source, time_col=d.time_col, target=d.target,
                features=list(d.features) or None, freq=d.freq)


def _progress(study_budget_label: str):
    prog = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                    TextColumn("{task.completed}/{task.total} trials"),
                    TextColumn("best {task.fields[best]}"), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=err, transient=True)
    task = prog.add_task(study_budget_label, total=1, best="—")

    def on_batch(study, budget):
        done = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]
        best = min((t.value for t in done if t.value is not None), default=math.nan)
        prog.update(task, total=budget, completed=min(budget, len(done)),
                    best="—" if math.isnan(best) else f"{best:.3f}")

    return prog, on_batch


def _print_result(r, cfg: StudyConfig) -> None:
    lb = r.leaderboard
    t = Table(title=f"Leaderboard: validation RMSE over {cfg.search.repeats} repeat(s) × "
                    f"{cfg.data.folds} fold(s)")
    for col in ("rank", "trial", "mean ± std", *[c[6:] for c in lb.columns
                                                if c.startswith("param_")]):
        t.add_column(col, justify="right")
    for _, row in lb.iterrows():
        t.add_row(str(int(row["rank"])), str(int(row["trial"])),
                  f"{row['mean']:.3f} ± {row['std']:.3f}",
                  *[f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c])
                    for c in lb.columns if c.startswith("param_")])
    console.print(t)
    console.print(f"Best configuration (trial value {r.best_value:.3f}): {r.best_params}")
    b = Table(title=f"Test window ({cfg.data.test_size} points), scored once")
    b.add_column("model")
    b.add_column("RMSE", justify="right")
    b.add_row(f"best, retrained on train+validation ({r.test['repeats']} repeats)",
              f"{r.test['rmse']:.3f} ± {r.test['rmse_std']:.3f}")
    for name, m in r.baselines.items():
        b.add_row(name, f"{m['rmse']:.3f}")
    console.print(b)
    console.print(f"{r.n_trials_complete} complete, {r.n_trials_failed} failed, "
                  f"{r.n_trials_pruned} pruned; {r.wall_seconds:.1f} s.")


def cmd_tune(args: argparse.Namespace) -> int:
    """Search hyperparameters: candidates × folds × repeats trained as populations, every
    repeat's score stored, the study resumable; the best is retrained and scored on test."""
    cfg = _config(args)
    ts = _load(cfg)
    out = Path(args.out)
    name = args.study_name or (Path(args.source).stem if args.source.endswith(".toml")
                               else "lstmtune")
    storage = _storage(args, out)
    prog, on_batch = _progress(f"{cfg.search.strategy}")
    with prog:
        r = tune(ts, cfg, storage=storage, study_name=name, on_batch=on_batch,
                 progress=None if args.json else (lambda m: err.print(f"[dim]{m}[/]")))
    files = _write_outputs(r, out, storage, name)
    if args.json:
        print_json({**r.to_dict(), "storage": storage, "study_name": name, **files})
    else:
        _print_result(r, cfg)
        console.print(f"Study stored in {storage} (study '{name}'); run the same command "
                      "again to resume or extend it.")
        console.print(f"Model (the retrained best, {r.model.repeats} members) saved to "
                      f"[bold]{files['model']}[/]; report: [bold]{files['report']}[/]")
    return 0


def _write_outputs(r, out: Path, storage: str, name: str) -> dict[str, str]:
    """The model directory and the HTML report, both in ``out``."""
    from lstmtune.model import save_model
    from lstmtune.report import load_study_tables, write_study_report

    model = save_model(r.model, out / "model")
    report = write_study_report(load_study_tables(storage, name), out / "report.html")
    return {"model": str(model), "report": str(report)}


def cmd_compare(args: argparse.Namespace) -> int:
    """Run several strategies with the same budget and seed and compare them, as seed 003's
    Table I does: optimum found, validation score, test score, trials, wall time."""
    base = _config(args)
    if args.budget is not None:
        base = replace(base, search=replace(base.search, trials=args.budget))
    names = [s.strip() for s in args.strategies.split(",") if s.strip()]
    bad = [s for s in names if s not in STRATEGIES]
    if bad:
        raise ConfigError(f"--strategies: unknown strategy '{bad[0]}'; choose from "
                          f"{', '.join(STRATEGIES)}.")
    ts = _load(base)
    out = Path(args.out)
    storage = _storage(args, out)
    rows = []
    for s in names:
        cfg = replace(base, search=replace(base.search, strategy=s))
        prog, on_batch = _progress(s)
        with prog:
            r = tune(ts, cfg, storage=storage, study_name=f"{args.study_name or 'compare'}-{s}",
                     on_batch=on_batch)
        rows.append({"method": s, **r.best_params, "validation": r.best_value,
                     "test_rmse": r.test["rmse"], "test_std": r.test["rmse_std"],
                     "trials": r.n_trials_complete + r.n_trials_failed + r.n_trials_pruned,
                     "wall_seconds": r.wall_seconds})
    if args.json:
        print_json({"table": rows, "persistence_rmse": r.baselines["persistence"]["rmse"]})
        return 0
    meta = ("method", "validation", "test_rmse", "test_std", "trials", "wall_seconds")
    params = list(dict.fromkeys(k for row in rows for k in row if k not in meta))
    t = Table(title=f"Strategies at {base.search.trials} trials, seed {base.search.seed}")
    for col in ("method", *params, "validation", "test RMSE", "trials", "time"):
        t.add_column(col, justify="left" if col == "method" else "right")
    for row in rows:
        t.add_row(row["method"], *[_cell(row.get(p)) for p in params],
                  f"{row['validation']:.3f}", f"{row['test_rmse']:.3f} ± {row['test_std']:.3f}",
                  str(row["trials"]), f"{row['wall_seconds']:.1f} s")
    console.print(t)
    return 0


def _cell(v) -> str:
    if v is None:
        return "—"
    return f"{v:.4g}" if isinstance(v, float) else str(v)
