"""`lstmtune tune` and `lstmtune compare`: searches on Optuna, trained as populations."""

from __future__ import annotations

import argparse
import hashlib
import math
import re
import shutil
import sys
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from lstmtune._files import (
    check_output_dir,
    check_output_file,
    make_dir,
    remove_stale_temps,
    write_atomic,
)
from lstmtune.cli._common import (
    MAX_HORIZON,
    add_format_options,
    add_season_option,
    cut,
    name_text,
    number,
    print_json,
    size,
    step_table,
    whole,
)
from lstmtune.data import LABELLED_BUILTINS, MULTISTEP, PANEL_BUILTINS, load, load_labelled
from lstmtune.errors import ConfigError, LstmtuneError
from lstmtune.evaluation import CLASS_METRICS, COMBINE, METRICS
from lstmtune.experiment import PANEL_METRICS
from lstmtune.search import (
    BASELINE_NAMES,
    HYBRID_TRIALS,
    LIMITS,
    STRATEGIES,
    StudyConfig,
    check_storage,
    close_storages,
    describe_url,
    fit_space,
    load_study_file,
    may_impute,
    preflight,
    resolve_sizes,
    storage_from_url,
    study_from_dict,
    tune,
)

console = Console()
err = Console(stderr=True)


def _limit(key: str):
    return whole(*LIMITS[key])


def add_tune_options(p: argparse.ArgumentParser, *, compare: bool = False) -> None:
    p.add_argument("source", metavar="STUDY.toml|DATA",
                   help="a TOML study file, or data (built-in name, CSV/Parquet) searched with "
                        "the default space")
    g = p.add_argument_group("data (when DATA is given)")
    g.add_argument("--time-col", metavar="C")
    g.add_argument("--target", metavar="C")
    g.add_argument("--freq", metavar="F")
    g.add_argument("--features", metavar="C1,C2",
                   help="extra input columns, comma-separated (observed up to each origin "
                        "unless also listed in known_features)")
    add_format_options(g)
    add_season_option(g)
    g = p.add_argument_group("what is scored (override the study file)")
    g.add_argument("--horizon", type=whole(1, MAX_HORIZON), metavar="H",
                   help="steps forecast from every walk-forward origin, all of them scored "
                        "(default 1)")
    g.add_argument("--origin-step", type=whole(1, MAX_HORIZON), metavar="K",
                   help="steps between walk-forward origins (default 1: every point; the "
                        "horizon: forecasts that do not overlap)")
    g.add_argument("--multistep", choices=MULTISTEP,
                   help="direct: one head of H outputs (default); recursive: a one-step model "
                        "fed its own forecasts")
    g.add_argument("--metric", choices=(*METRICS, "owa", *CLASS_METRICS),
                   help="trials, final test and baselines: rmse (default), mae, mape, smape, "
                        "mase; a panel: smape (default), mase, owa, mape; a classifier: "
                        "pr_auc (default), roc_auc, accuracy, precision, recall, f1, log_loss")
    g.add_argument("--task", choices=("forecast", "classify", "panel"),
                   help="classify: DATA holds labelled sequences (texts or numbers with a "
                        "class; the default for the built-in labelled sets); panel: DATA is "
                        "a long table of many series (unique_id, ds, y; the default for the "
                        "built-in M1 panels)")
    g.add_argument("--id-col", metavar="C", help="panel, a long table: the series id column "
                                                 "(default unique_id)")
    g.add_argument("--text-col", metavar="C", help="classify, a table: the text column")
    g.add_argument("--label-col", metavar="C", help="classify, a table: the label column")
    g.add_argument("--test-size", type=size(1), metavar="N",
                   help="final test window: a count or a fraction, e.g. 0.2 (default 12)")
    g.add_argument("--val-size", type=size(1), metavar="N",
                   help="validation window: a count or a fraction (default: the test size)")
    g.add_argument("--folds", type=_limit("folds"), metavar="K",
                   help="walk-forward folds over validation")
    g = p.add_argument_group("search (override the study file)")
    if compare:
        g.add_argument("--strategies", default="random,tpe,gp,hyperband,ga,hybrid",
                       metavar="S1,S2", help="strategies to compare with the same budget")
        g.add_argument("--budget", type=_limit("trials"), metavar="N",
                       help="trials per strategy")
    else:
        g.add_argument("--strategy", choices=STRATEGIES)
        g.add_argument("--trials", type=_limit("trials"), metavar="N")
    g.add_argument("--repeats", type=_limit("repeats"), metavar="R",
                   help="trainings per candidate and fold")
    g.add_argument("--final-repeats", type=_limit("final_repeats"), metavar="R",
                   help="retrainings of the best, scored on test (default 30)")
    g.add_argument("--no-refit", dest="refit", action="store_false", default=None,
                   help="save the members scored on test instead of training them again on "
                        "all the data (the default refits: the model predict uses)")
    g.add_argument("--ensemble-top", type=_limit("ensemble_top"), metavar="K",
                   help="one series: pool the members of the K best configurations as the "
                        "saved model, scored on test beside the single best (default 1)")
    g.add_argument("--combine", choices=tuple(COMBINE),
                   help="how the final members' forecasts make one: the one scored on test "
                        "beside the baselines and that predict gives (default median)")
    g.add_argument("--timeout", type=number(0, LIMITS["timeout"][1], open_low=True),
                   metavar="S", help="stop asking after S seconds")
    g.add_argument("--seed", type=_limit("seed"), metavar="N")
    g.add_argument("--storage", metavar="URL",
                   help="SQLAlchemy URL, or journal:///abs/path.log (default: sqlite file in "
                        "--out)")
    g.add_argument("--study-name", type=name_text, metavar="NAME")
    g.add_argument("--out", default="lstmtune-out", metavar="DIR",
                   help="root folder: each study writes into DIR/STUDY-NAME/ (study.db, model, "
                        "report.html, leaderboard.csv); default lstmtune-out")
    g.add_argument("--json", action="store_true", help="print the result as one JSON object")
    if not compare:
        g.add_argument("--workers", type=whole(1, MAX_WORKERS), default=1, metavar="N",
                       help="N worker processes on this study's storage (they share the "
                            "budget); this process then evaluates the best. Workers on other "
                            "machines: run the same command there with a shared --storage "
                            "(e.g. postgresql://...)")
        g.add_argument("--search-only", action="store_true", help=argparse.SUPPRESS)


def _config(args: argparse.Namespace) -> StudyConfig:
    """The study file (or the default study on DATA) with the options given on top, all
    validated by the study file's own rules."""
    src = args.source
    if src.endswith(".toml"):
        cfg = load_study_file(src)
    else:
        task = args.task or ("classify" if src in LABELLED_BUILTINS else "panel"
                             if src in PANEL_BUILTINS else "forecast")
        table = {"source": src, "task": task}
        if task == "classify":
            table |= {k: v for k, v in (("text_col", args.text_col),
                                        ("label_col", args.label_col)) if v is not None}
        if task == "panel" and args.id_col is not None:
            table["id_col"] = args.id_col
        doc = {"data": table}
        if task == "panel" and args.horizon is not None:  # a panel needs it to be read
            doc["model"] = {"horizon": args.horizon}
        if args.metric is not None:
            doc["search"] = {"metric": args.metric}
        cfg = study_from_dict(doc)
    if args.task is not None and args.task != cfg.data.task:
        raise ConfigError(f"--task {args.task}: the study file says task = "
                          f"{cfg.data.task!r}; change it there, or drop --task.")
    if cfg.data.task == "classify":
        return _classify_config(args, cfg)
    if cfg.data.task == "panel":
        return _panel_config(args, cfg)
    if args.id_col is not None:
        raise ConfigError("--id-col applies to a panel of series (--task panel, or [data] "
                          'task = "panel"); drop it.')
    data = cfg.data
    data = replace(data, **{k: v for k, v in (("time_col", args.time_col),
                                              ("target", args.target), ("freq", args.freq),
                                              ("sep", args.sep), ("decimal", args.decimal),
                                              ("date_format", args.date_format),
                                              ("season", args.season),
                                              ("test_size", args.test_size),
                                              ("val_size", args.val_size),
                                              ("folds", args.folds)) if v is not None})
    val = data.val_size or data.test_size
    if isinstance(val, int) and val % data.folds:
        raise ConfigError(f"--folds {data.folds}: the validation window ({val} points) must "
                          f"divide into {data.folds} equal folds; use e.g. --val-size "
                          f"{max(data.folds, val - val % data.folds)}.")
    data, search = _with_features(args, data), _search_options(args, cfg)
    fixed = dict(cfg.fixed)
    for name in ("horizon", "origin_step", "multistep"):
        value = getattr(args, name, None)
        if value is None:
            continue
        if name in cfg.space.searched():
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} {value}: the study file searches {name} in [space]; "
                              f"remove it there, or drop {flag}.")
        fixed[name] = value
    return replace(cfg, data=data, search=search, fixed=tuple(fixed.items()))


FORECAST_ONLY = ("time_col", "target", "freq", "features", "horizon", "origin_step",
                 "multistep", "season", "sep", "decimal", "date_format")


def _classify_config(args: argparse.Namespace, cfg: StudyConfig) -> StudyConfig:
    """The options of a classification study (the forecasting ones are refused)."""
    given = [k for k in FORECAST_ONLY if getattr(args, k, None) is not None]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise ConfigError(f"{flag} applies to forecasting; a classification study (task = "
                          "classify) takes --test-size, --val-size, --folds, --metric, "
                          "--text-col and --label-col.")
    if args.id_col is not None:
        raise ConfigError("--id-col applies to a panel of series (--task panel); a "
                          "classification study reads one item per row: drop it.")
    over = {k: getattr(args, k) for k in ("test_size", "val_size", "folds", "text_col",
                                          "label_col") if getattr(args, k, None) is not None}
    if args.metric is not None and args.metric not in CLASS_METRICS:
        raise ConfigError(f"--metric {args.metric} scores forecasts; a classifier takes one "
                          f"of {', '.join(CLASS_METRICS)}.")
    return replace(cfg, data=replace(cfg.data, **over), search=_search_options(args, cfg))


def _with_features(args: argparse.Namespace, data):
    """``data`` with the --features columns, when given."""
    if args.features is None:
        return data
    return replace(data, features=tuple(c.strip() for c in args.features.split(",")
                                        if c.strip()))


def _search_options(args: argparse.Namespace, cfg: StudyConfig):
    """The study's [search] with the options given on top."""
    over = {k: getattr(args, k, None) for k in ("strategy", "trials", "repeats", "timeout",
                                                 "seed", "final_repeats", "metric", "refit",
                                                 "combine", "ensemble_top")}
    return replace(cfg.search, **{k: v for k, v in over.items() if v is not None})


def _panel_config(args: argparse.Namespace, cfg: StudyConfig) -> StudyConfig:
    """The options of a panel study (windows are the horizon's: no sizes, no origin step)."""
    for k in ("test_size", "val_size", "origin_step", "text_col", "label_col"):
        if getattr(args, k, None) is not None:
            flag = "--" + k.replace("_", "-")
            raise ConfigError(f"{flag} does not apply to a panel: its test window is each "
                              "series' last horizon points and its validation windows the "
                              "--folds × horizon points before them; set --horizon and "
                              "--folds instead.")
    if args.metric is not None and args.metric not in PANEL_METRICS:
        raise ConfigError(f"--metric {args.metric} is not comparable across the series of a "
                          f"panel: use one of {', '.join(PANEL_METRICS)}.")
    data = replace(cfg.data, **{k: v for k, v in (
        ("id_col", args.id_col), ("time_col", args.time_col), ("target", args.target),
        ("freq", args.freq), ("season", args.season), ("folds", args.folds)) if v is not None})
    data, search = _with_features(args, data), _search_options(args, cfg)
    fixed = dict(cfg.fixed)
    if args.horizon is not None:
        fixed |= {"horizon": args.horizon, "origin_step": args.horizon}
    if args.multistep is not None:
        if "multistep" in cfg.space.searched():
            raise ConfigError(f"--multistep {args.multistep}: the study file searches "
                              "multistep in [space]; remove it there, or drop --multistep.")
        fixed["multistep"] = args.multistep
    return replace(cfg, data=data, search=search, fixed=tuple(fixed.items()))


def _storage(args: argparse.Namespace, out: Path) -> str:
    """The storage URL (the default SQLite file in ``out`` is not created here)."""
    if args.storage:
        return args.storage
    return f"sqlite:///{(out / 'study.db').resolve()}"


def _load(cfg: StudyConfig):
    d = cfg.data
    fmt = {k: v for k, v in (("sep", d.sep), ("decimal", d.decimal),
                             ("date_format", d.date_format), ("season", d.season))
           if v is not None}
    return load(d.source, time_col=d.time_col, target=d.target,
                features=list(d.features) or None, freq=d.freq,
                allow_missing=may_impute(cfg), **fmt)


OUTPUTS = {"model": "dir", "report.html": "file", "leaderboard.csv": "file"}


def prepare_run(args: argparse.Namespace, cfg: StudyConfig, out: Path):
    """Everything checked before anything is written: the output folder and the paths in
    it, the data, the study against the data, the storage URL.  Returns (series, URL, the
    configuration with fractional sizes resolved for the series)."""
    check_output_dir(out)
    for name, kind in OUTPUTS.items():
        (check_output_dir if kind == "dir" else check_output_file)(out / name,
                                                                  f"--out {out}: {name}")
    if cfg.data.task == "classify":
        return _prepare_labelled(args, cfg, out)
    if cfg.data.task == "panel":
        return _prepare_panel(args, cfg, out)
    ts = _load(cfg)
    cfg = resolve_sizes(cfg, len(ts))
    preflight(ts, fit_space(ts, cfg)[0])  # tune fits the default space again, and says so
    return ts, _open_out(args, out), cfg


def _open_out(args: argparse.Namespace, out: Path) -> str:
    """The storage URL (a given one, or the study file already in ``out``, opened now:
    malformed, unknown, unreachable, not SQLite or read-only is one line, and the check
    leaves nothing behind) and then the output folder, made and cleared of a killed save's
    temporary files."""
    if args.storage is not None and not args.storage.strip():
        raise ConfigError("--storage is empty: give a storage URL (e.g. "
                          "sqlite:///path/study.db), or leave --storage out for a SQLite file "
                          "in --out.")
    storage = _storage(args, out)
    if args.storage or (out / "study.db").exists():
        check_storage(storage)
    make_dir(out)
    remove_stale_temps(out)
    return storage


def _prepare_labelled(args: argparse.Namespace, cfg: StudyConfig, out: Path):
    """As ``prepare_run``, for labelled items: read and split them (every refusal now)."""
    from lstmtune.search import check_labelled

    d = cfg.data
    given = [(k, v) for k, v in (("text_col", d.text_col), ("label_col", d.label_col)) if v]
    if given and Path(d.source).suffix not in (".csv", ".parquet", ".txt", ".tsv"):
        def cut(text: str) -> str:
            return text if len(text) <= 60 else text[:59] + "…"

        key, value = given[0]
        raise ConfigError(f"--{key.replace('_', '-')} {cut(value)!r} (or [data] {key}) names "
                          "a column of a table of texts (CSV, Parquet), and "
                          f"'{cut(d.source)}' is not one: drop it.")
    items = load_labelled(d.source, text_col=d.text_col, label_col=d.label_col)
    cfg = check_labelled(items, cfg)
    return items, _open_out(args, out), cfg


def _prepare_panel(args: argparse.Namespace, cfg: StudyConfig, out: Path):
    """As ``prepare_run``, for a panel: read it and refuse what cannot run, by series."""
    from lstmtune.search import check_panel, read_panel

    panel = read_panel(cfg)
    check_panel(panel, cfg)  # tune fits the default space again, and says so
    return panel, _open_out(args, out), cfg


def _progress(study_budget_label: str):
    prog = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                    TextColumn("{task.completed}/{task.total} trials"),
                    TextColumn("best {task.fields[best]}"), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=err, transient=True)
    task = prog.add_task(study_budget_label, total=1, best="—")

    def on_batch(study, budget):
        done = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]
        pick = max if study.direction.name == "MAXIMIZE" else min
        best = pick((t.value for t in done if t.value is not None), default=math.nan)
        prog.update(task, total=budget, completed=min(budget, len(done)),
                    best="—" if math.isnan(best) else f"{best:.3f}")

    return prog, on_batch


def _cell(v) -> str:
    if v is None:
        return "—"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def leaderboard_table(lb, title: str, width: int) -> tuple[Table, list[str]]:
    """Rank, trial, mean ± std, then the parameters that fit in ``width`` columns (in the
    space's order); returns the table and the parameters left out."""
    params = [c for c in lb.columns if c.startswith("param_")]
    cells = {c: [_cell(v) for v in lb[c]] for c in params}
    used = 7 + 6 + 19 + 4  # rank, trial, "mean ± std", borders
    shown, hidden = [], []
    for c in params:
        w = max(len(c) - 6, *(len(x) for x in cells[c]), 1) + 3
        if used + w <= width and not hidden:
            shown.append(c)
            used += w
        else:
            hidden.append(c[6:])
    t = Table(title=title, title_justify="left")
    for col in ("rank", "trial", "mean ± std", *[c[6:] for c in shown]):
        t.add_column(col, justify="right", no_wrap=True)
    for k, (_, row) in enumerate(lb.iterrows()):
        t.add_row(str(int(row["rank"])), str(int(row["trial"])),
                  f"{row['mean']:.3f} ± {row['std']:.3f}", *[cells[c][k] for c in shown])
    return t, hidden


def print_failures(r) -> None:
    """The counts of the study's trials, and why the failed ones failed."""
    console.print(f"{r.n_trials_complete} complete, {r.n_trials_failed} failed, "
                  f"{r.n_trials_pruned} pruned; {r.wall_seconds:.1f} s.")
    for kind, v in r.failures.items():
        console.print(f"  {v['count']} {kind}, e.g.: {v['example']}", highlight=False)


CLASS_COLUMNS = (("pr_auc", "PR-AUC"), ("roc_auc", "ROC-AUC"), ("accuracy", "accuracy"),
                 ("precision", "precision"), ("recall", "recall"), ("f1", "F1"),
                 ("log_loss", "log loss"))


def _print_search(r, cfg: StudyConfig, where: str | None, ahead: str = "",
                  over: str | None = None) -> None:
    """The leaderboard (validation) and the best configuration's parameters."""
    over = over or f"{cfg.search.repeats} repeat(s) × {cfg.data.folds} fold(s)"
    t, hidden = leaderboard_table(
        r.leaderboard.head(10), f"Leaderboard: validation {cfg.task.label}{ahead} over "
        f"{over}", console.width)
    console.print(t)
    if hidden or where:
        more = f"not shown: {', '.join(hidden)}. " if hidden else ""
        console.print(f"[dim]{more}Every trial with all its parameters: {where}[/]")
    console.print(f"Best configuration (trial value {r.best_value:.3f}):", highlight=False)
    for k, v in r.best_params.items():
        console.print(f"  {k} = {_cell(v)}", highlight=False)


def _print_classification(r, cfg: StudyConfig, where: str | None = None) -> None:
    _print_search(r, cfg, where)
    final = r.study.user_attrs.get("lstmtune:final", {})
    n_test = sum(final.get("split", {}).get("test", [])) or "the"
    b = Table(title=f"Test items ({n_test}), scored once; threshold "
                    f"{r.test['threshold']:.3f} chosen on validation", title_justify="left")
    b.add_column("metric")
    b.add_column(f"best: {r.test['repeats']} members, mean ± sd", justify="right")
    b.add_column("members' mean probability", justify="right")
    for name in r.baselines:
        b.add_column(name.replace("_", " "), justify="right")
    ens = r.test["ensemble"]
    for k, label in CLASS_COLUMNS:
        b.add_row(label, f"{r.test[k]:.3f} ± {r.test[k + '_std']:.3f}", f"{ens[k]:.3f}",
                  *[f"{m[k]:.3f}" for m in r.baselines.values()])
    console.print(b)
    classes = final.get("classes", [])
    if final.get("confusion"):
        c = Table(title="Confusion matrix", title_justify="left",
                  caption="rows: true class; columns: predicted", caption_justify="left")
        c.add_column("")
        for name in classes:
            c.add_column(name, justify="right")
        for name, row in zip(classes, final["confusion"], strict=False):
            c.add_row(name, *map(str, row))
        console.print(c)
    print_failures(r)


PANEL_METHODS = {"lstm": "LSTM, panel best", "lstm_per_series": "LSTM, per-series best",
                 "naive": "Naive", "snaive": "seasonal Naive", "naive2": "Naive2",
                 "ses": "SES", "theta": "Theta", "ets": "ETS"}


def _print_panel(r, cfg: StudyConfig, where: str | None = None) -> None:
    task = cfg.task
    final = r.study.user_attrs.get("lstmtune:final", {})
    n = (final.get("data") or {}).get("series", "the")
    _print_search(r, cfg, where, f", {task.horizon} steps ahead",
                  f"{n} series × {cfg.search.repeats} repeat(s) × {cfg.data.folds} window(s) "
                  "(mean ± sd over them)")
    b = Table(title=f"Test windows ({n} series × {task.horizon} steps), scored once; means "
                    "over series (OWA: the M4's, relative to Naive2)", title_justify="left")
    for col in ("method", "sMAPE", "MASE", "OWA", "median sMAPE"):
        b.add_column(col, justify="left" if col == "method" else "right")
    for k, v in r.test["table"].items():
        b.add_row(PANEL_METHODS.get(k, k), f"{v['smape']:.3f}", f"{v['mase']:.3f}",
                  f"{v['owa']:.3f}", f"{v['smape_median']:.3f}")
    console.print(b)
    c = Table(title=f"Paired by series on test {task.label} (negative: the LSTM is better)",
              title_justify="left")
    for col in ("comparison", "mean difference", "95 % bootstrap interval", "LSTM better on",
                "Wilcoxon p"):
        c.add_column(col, justify="left" if col == "comparison" else "right")
    for k, v in r.test["comparisons"].items():
        mine, other = k.split(" vs ")
        if mine == "lstm_per_series" and other not in ("theta", "ets"):
            continue
        c.add_row(f"{PANEL_METHODS[mine]} vs {PANEL_METHODS.get(other, other)}",
                  f"{v['mean_diff']:+.3f}", f"[{v['ci_low']:+.3f}, {v['ci_high']:+.3f}]",
                  f"{v['win_rate']:.0%} of series", f"{v['p_value']:.2g}")
    console.print(c)
    from rich.markup import escape

    def bounded(v) -> bool:  # a finite interval (older studies stored unbounded ones)
        q = v.get("quantile") or [None]
        return all(isinstance(x, int | float) and math.isfinite(x) for x in q)

    cov = [v for v in (r.test.get("coverage") or {}).values() if bounded(v)]
    if cov:
        console.print("Conformal intervals on the test windows: " + "; ".join(
            f"nominal {float(v['nominal']):.0%} → measured {v['coverage']:.1%}" for v in cov))
    for level, v in (r.test.get("intervals_missing") or {}).items():
        console.print(f"[yellow]note:[/] no {round(100 * float(level))} % interval: "
                      f"{escape(str(v.get('reason', '')))}")
    lost = r.test.get("diverged_series") or []
    if lost:
        console.print(f"[yellow]note:[/] every final member diverged on {len(lost)} series "
                      f"(e.g. {lost[0]}): the LSTM rows use Naive2's forecast there.")
    fb = r.test.get("fallbacks") or {}
    if fb:
        console.print("[yellow]note:[/] fits that failed fell back to Naive2: " + "; ".join(
            f"{k} on {len(v)} series" for k, v in fb.items()))
    print_failures(r)


def print_verdict(test: dict) -> None:
    """Who won on test, in one plain sentence (``test["verdict"]``)."""
    from rich.markup import escape

    v = test.get("verdict") or {}
    if v.get("text"):
        style = "green" if v.get("winner") == "lstm" else "yellow"
        console.print(f"[bold {style}]Verdict:[/] {escape(v['text'])}")


def model_line(model, path: str) -> str:
    """Where the model was saved and what it was trained on."""
    info = model.info
    refit = info.get("refit")
    end = str(info.get("fit_end") or "").removesuffix(" 00:00:00")
    what = (f"refit on all the data{' to ' + end if end else ''}"
            if refit is True else "the members scored on test (--no-refit)" if refit is False
            else f"the members scored on test ({refit})" if isinstance(refit, str)
            else "the retrained best")
    trials = info.get("trials")
    which = (f"the {len(trials)} best trials {', '.join(map(str, trials))}"
             if isinstance(trials, list) and len(trials) > 1 else f"trial {info.get('trial')}")
    return (f"Model ({what}; {which}, {model.repeats} members) saved to [bold]{path}[/]")


def _print_result(r, cfg: StudyConfig, where: str | None = None) -> None:
    task = cfg.task
    if task.kind == "classify":
        _print_classification(r, cfg, where)
    elif task.kind == "panel":
        _print_panel(r, cfg, where)
    else:
        _print_forecast(r, cfg, where)
    print_verdict(r.test)


def _print_forecast(r, cfg: StudyConfig, where: str | None = None) -> None:
    task = cfg.task
    ahead = f", {task.horizon} steps ahead" if task.horizon > 1 else ""
    _print_search(r, cfg, where, ahead)
    b = Table(title=f"Test window ({cfg.data.test_size} points{ahead}), scored once",
              title_justify="left")
    b.add_column("model")
    b.add_column(task.label, justify="right", no_wrap=True)
    failed = r.test.get("failed", 0)
    best = (f"best, retrained on train+validation ({r.test['repeats']} repeats"
            + (f", {failed} diverged" if failed else "") + ")")
    b.add_row(best, f"{r.test['value']:.3f} ± {r.test['std']:.3f}")
    ens, top = r.test.get("ensemble"), r.test.get("top")
    top = top if top and top.get("k", 1) > 1 else None  # a second configuration pooled
    if ens:
        b.add_row(f"  their {ens['combine']} forecast"
                  + ("" if top else " (what predict gives)"), f"{ens['value']:.3f}")
    if top:
        b.add_row(f"the {top['k']} best configurations' {top['members']} members, their "
                  f"{top['combine']} forecast (what predict gives)", f"{top['value']:.3f}")
    for name, m in r.baselines.items():
        b.add_row(BASELINE_NAMES.get(name, name.replace("_", " ")), f"{m['value']:.3f}")
    console.print(b)
    if task.horizon > 1:
        console.print(step_table(f"Test {task.label} per horizon step",
                                 {"best (mean over repeats)": r.test["per_step"],
                                  **({f"their {ens['combine']} forecast": ens["per_step"]}
                                     if ens else {}),
                                  **({f"{top['k']} best, {top['combine']}": top["per_step"]}
                                     if top else {})},
                                 r.baselines))
    print_failures(r)


def cmd_tune(args: argparse.Namespace) -> int:
    """Search hyperparameters: candidates × folds × repeats trained as populations, every
    repeat's score stored, the study resumable; the best is retrained and scored on test.
    Several processes with the same command share the study (and its budget) as workers."""
    cfg = _config(args)
    name = args.study_name or study_name_of(args.source)
    out = study_folder(args.out, name)
    legacy = Path(args.out) / "study.db"
    if not args.storage and legacy.is_file() and not args.json:
        err.print(f"[yellow]note:[/] {legacy} is a study file of the earlier layout (one study "
                  f"folder per --out); this study lives in {out}. To continue a study kept "
                  f"there, pass --storage sqlite:///{legacy.resolve()} --study-name NAME.")
    if args.workers > 1 and (args.storage or "").startswith("memory:"):
        raise ConfigError(f"--workers {args.workers} with --storage {args.storage}: a study in "
                          "memory lives in one process; give a sqlite:///, journal:/// or "
                          "postgresql:// storage, or leave --storage out (a SQLite file in "
                          "--out).")
    top = _missing_top(out)
    ts, storage, cfg = prepare_run(args, cfg, out)
    claim_folder(out, name)
    try:
        return _tune_and_print(args, cfg, ts, storage, name, out)
    except LstmtuneError:  # refused by the storage (another study's configuration, ...)
        _unmake(out, top)
        raise
    finally:  # the study's files are final when the command ends
        close_storages()


def _tune_and_print(args: argparse.Namespace, cfg: StudyConfig, ts, storage: str, name: str,
                    out: Path) -> int:
    """``tune``'s search, final evaluation and output once everything has been checked."""
    if args.search_only:  # one of --workers' processes: search, no final evaluation
        tune(ts, cfg, storage=storage, study_name=name, until="search",
             progress=lambda m: err.print(m))
        return 0
    if args.workers > 1:
        # created (or joined, or refused in one line) here, before any worker starts
        tune(ts, cfg, storage=storage, study_name=name, until="open",
             progress=None if args.json else (lambda m: err.print(f"[dim]{m}[/]")))
        run_workers(args, storage, name, out, budget=cfg.search.trials)
    files: dict[str, str] = {}
    prog, on_batch = _progress(f"{cfg.search.strategy}")
    with prog:
        r = tune(ts, cfg, storage=storage, study_name=name, on_batch=on_batch,
                 progress=None if args.json else (lambda m: err.print(f"[dim]{m}[/]")),
                 publish=lambda result: files.update(_write_outputs(result, out, storage,
                                                                    name)))
    if args.json:
        print_json({**r.to_dict(), "storage": describe_url(storage), "study_name": name,
                    **files})
    else:
        _print_result(r, cfg, f"{files['leaderboard']} and the report.")
        console.print(f"Study stored in {describe_url(storage)} (study '{name}'); run the same "
                      "command again to resume or extend it, or in several terminals at once "
                      "to share the work.")
        console.print(f"{model_line(r.model, files['model'])}; report: "
                      f"[bold]{files['report']}[/]")
    return 0


MAX_WORKERS = 64


def _worker_command(args: argparse.Namespace, storage: str, name: str) -> list[str]:
    """This command for one worker: without --workers and --json, on the resolved storage
    and study name, searching only."""
    argv, skip = [], False
    for a in args.argv:
        if skip:
            skip = False
        elif a == "--workers":
            skip = True
        elif not (a.startswith("--workers=") or a == "--json"):
            argv.append(a)
    return [sys.executable, "-m", "lstmtune", *argv, "--storage", storage, "--study-name", name,
            "--search-only"]


def run_workers(args: argparse.Namespace, storage: str, name: str, out: Path,
                budget: int) -> None:
    """``--workers N``: N processes of this command search the study together (the first
    creates it, the others wait for it under the storage's lock; they share the budget), each
    logging to ``out/workers/K.log``; returns when all have ended.  Ctrl-C is passed on to
    them (once: they finish the chunk; twice: they stop now).  A worker that fails is named
    with its last line, and the trials it left are run by this process afterwards."""
    import signal
    import subprocess
    import time

    logs = out / "workers"
    make_dir(logs)
    cmd = _worker_command(args, storage, name)
    procs = []
    for k in range(1, args.workers + 1):
        with open(logs / f"{k}.log", "w") as log:  # each worker's own copy of the handle
            procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=log,
                                          start_new_session=True))  # Ctrl-C comes from here
    if not args.json:
        err.print(f"[dim]{args.workers} workers on {describe_url(storage)} (study '{name}'); "
                  f"their logs: {logs}[/]")
    prog, on_batch = _progress(f"{args.workers} workers")
    watcher = _Watcher(storage, name)
    interrupts = 0
    ended = []  # SIGTERM or SIGHUP to this process: passed on, then this process ends

    def end(signum, frame):
        ended.append(signum)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    old = {s: signal.signal(s, end) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        with prog:
            while True:
                try:
                    while any(p.poll() is None for p in procs):
                        study = watcher.study()
                        if study is not None:
                            on_batch(study, budget)
                        time.sleep(1.0)
                    break
                except KeyboardInterrupt:
                    interrupts += 1
                    for p in procs:
                        if p.poll() is None:
                            p.send_signal(signal.SIGINT)
                    if interrupts == 1:
                        err.print("lstmtune: Ctrl-C: the workers finish their current chunk "
                                  "(Ctrl-C again to stop them now)")
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    if interrupts or ended:  # the workers said what they did; the study resumes as usual
        raise KeyboardInterrupt
    for k, p in enumerate(procs, 1):
        if p.returncode != 0:
            last = (logs / f"{k}.log").read_text(errors="replace").strip().splitlines()
            err.print(f"[yellow]note:[/] worker {k} exited with code {p.returncode}"
                      f"{': ' + last[-1] if last else ''} (log: {logs / f'{k}.log'}); this "
                      "process runs what it left")


class _Watcher:
    """The study as the workers leave it, read afresh each time (None until it exists)."""

    def __init__(self, storage: str, name: str) -> None:
        self.url, self.name = storage, name
        self._storage = self._study = None

    def study(self):
        import optuna

        try:
            if self._study is None:
                self._storage = storage_from_url(self.url)
                self._study = optuna.load_study(study_name=self.name, storage=self._storage)
            self._storage.refresh(self._study._study_id)
        except Exception:  # not created yet, or the database away for a moment
            return None
        return self._study


def study_name_of(source: str) -> str:
    r"""The default study name: the study file's or data file's stem (``shampoo`` for the
    built-in data), its characters that are not printable text written as escapes
    (``\t`` for a tab, ``\xff`` for a byte of a file name that is no UTF-8)."""
    stem = Path(source).stem or "lstmtune"
    if stem.isprintable():
        return stem
    return "".join(c if c.isprintable() else f"\\x{ord(c) - 0xDC00:02x}"
                   if "\udc80" <= c <= "\udcff" else c.encode("unicode_escape").decode("ascii")
                   for c in stem)


FOLDER_MARK = ".study-name"  # the exact name of the study a folder under --out holds


def study_folder(root: str, name: str) -> Path:
    """Where a study's files go: its own folder under ``--out``, so that studies never
    overwrite each other's model and report.  A name that is a plain file name
    (``[A-Za-z0-9._-]``, at most 100 characters) is the folder's name; any other is made
    one (other characters become ``-``) and followed by 10 hex digits of its SHA-256, so
    that ``a/b`` and ``a-b`` get folders of their own.  The folder's ``.study-name`` holds
    the exact name: a name whose folder holds another study (a file system that ignores
    case: ``Study`` and ``study``) is refused, naming it.  ``root`` itself is checked first
    (the user named it)."""
    check_output_dir(Path(root))
    if not any(c.isalnum() for c in name):
        raise ConfigError(f"--study-name {cut(name)}: a study name needs a letter or a digit "
                          "(it names the study's folder under --out); e.g. --study-name run1.")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    if safe != name or len(name) > 100:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
        safe = f"{safe[:60].strip('.-') or 'study'}-{digest}"
    path = Path(root) / safe
    mark = path / FOLDER_MARK
    if mark.is_file():
        held = mark.read_text(encoding="utf-8", errors="replace")
        if held != name:
            raise ConfigError(f"--study-name {cut(name)}: its folder {path} holds the study "
                              f"{cut(held)} (this file system does not tell the two names "
                              "apart); give another --study-name, or another --out.")
    return path


def claim_folder(out: Path, name: str) -> None:
    """Record in ``out`` (made by ``prepare_run``) that it holds study ``name``."""
    mark = out / FOLDER_MARK
    if not mark.is_file():
        write_atomic(mark, name)


def _missing_top(out: Path) -> Path | None:
    """The highest folder of ``out`` (itself or a parent) that does not exist yet."""
    top = None
    for p in (out, *out.parents):
        if p.exists():
            break
        top = p
    return top


def _unmake(out: Path, top: Path | None) -> None:
    """Remove the folders this run made (``top`` down to ``out``) when a refusal left
    nothing in them but the study's mark."""
    if top is None or not out.is_dir() or \
            any(p.name != FOLDER_MARK for p in out.iterdir()):
        return
    shutil.rmtree(out, ignore_errors=True)
    for p in out.parents:
        if p == top.parent:
            break
        try:
            p.rmdir()  # only an empty one
        except OSError:
            break


def _write_outputs(r, out: Path, storage: str, name: str) -> dict[str, str]:
    """The model directory, the HTML report and the full leaderboard (CSV), all in ``out``
    (called while this process holds the study's final lock)."""
    from lstmtune.model import save_model
    from lstmtune.report import load_study_tables, write_study_report
    from lstmtune.search import leaderboard

    remove_stale_temps(out)
    model = save_model(r.model, out / "model")
    report = write_study_report(load_study_tables(storage, name, study=r.study),
                                out / "report.html")
    board = write_atomic(out / "leaderboard.csv",
                         leaderboard(r.study, top=None).to_csv(index=False))
    return {"model": str(model), "report": str(report), "leaderboard": str(board)}


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
    if not names:
        raise ConfigError(f"--strategies '{args.strategies}' names no strategy: give a comma-"
                          "separated list, e.g. --strategies random,tpe,gp.")
    twice = sorted({s for s in names if names.count(s) > 1})
    if twice:
        raise ConfigError(f"--strategies lists '{twice[0]}' twice; give each strategy once.")
    out = study_folder(args.out, args.study_name or "compare")
    top = _missing_top(out)
    ts, storage, base = prepare_run(args, base, out)
    claim_folder(out, args.study_name or "compare")
    try:
        return _compare(args, base, names, ts, storage)
    except LstmtuneError:
        _unmake(out, top)
        raise
    finally:
        close_storages()


def _compare(args: argparse.Namespace, base: StudyConfig, names: list[str], ts,
             storage: str) -> int:
    """``compare``'s runs and table once everything has been checked."""
    classify = base.task.kind == "classify"
    rows = []
    for s in names:
        cfg = replace(base, search=replace(base.search, strategy=s))
        prog, on_batch = _progress(s)
        with prog:
            r = tune(ts, cfg, storage=storage, study_name=f"{args.study_name or 'compare'}-{s}",
                     on_batch=on_batch)
        rows.append({"method": s, **r.best_params, "validation": r.best_value,
                     "metric": r.test["metric"], "test": r.test["value"],
                     "test_std": r.test["std"],
                     **({f"test_{k}": r.test[k] for k in CLASSIFY_COMPARED} if classify
                        else {"test_rmse": r.test["rmse"]} if "rmse" in r.test else {}),
                     "trials": r.n_trials_complete + r.n_trials_failed + r.n_trials_pruned
                     + sum(r.study.user_attrs.get(HYBRID_TRIALS, {}).values()),
                     "search_seconds": _search_seconds(r.study, storage),
                     "wall_seconds": r.wall_seconds})
    if classify:
        return _print_compare_classification(rows, r.baselines, base, args.json)
    if args.json:
        extra = {"persistence": r.baselines["persistence"]["value"],
                 "persistence_rmse": r.baselines["persistence"]["rmse"]} \
            if "persistence" in r.baselines else {"baselines": r.baselines}  # a panel's
        print_json({"table": rows, **extra})
        return 0
    meta = ("method", "validation", "metric", "test", "test_rmse", "test_std", "trials",
            "wall_seconds", "search_seconds")
    params = list(dict.fromkeys(k for row in rows for k in row if k not in meta))
    t = Table(title=f"Strategies at {base.search.trials} trials, seed {base.search.seed}")
    for col in ("method", *params, "validation", f"test {base.task.label}", "trials", "time"):
        t.add_column(col, justify="left" if col == "method" else "right")
    for row in rows:
        t.add_row(row["method"], *[_cell(row.get(p)) for p in params],
                  f"{row['validation']:.3f}", f"{row['test']:.3f} ± {row['test_std']:.3f}",
                  str(row["trials"]), f"{row['wall_seconds']:.1f} s")
    console.print(t)
    return 0



CLASSIFY_COMPARED = ("precision", "recall", "f1")


def _search_seconds(study, storage: str) -> float:
    """The wall time the study's trials took (the union of their start-to-end intervals;
    a hybrid's own strategies' studies included), whichever run trained them: the same
    when ``compare`` is run again to resume."""
    import optuna

    studies = [study] + [optuna.load_study(study_name=f"{study.study_name}:{name}",
                                           storage=study._storage)
                         for name in study.user_attrs.get(HYBRID_TRIALS, {})]
    spans = sorted((t.datetime_start, t.datetime_complete) for s in studies
                   for t in s.get_trials(deepcopy=False)
                   if t.datetime_start is not None and t.datetime_complete is not None)
    total, end = 0.0, None
    for a, b in spans:
        if end is None or a > end:
            total += (b - a).total_seconds()
            end = b
        elif b > end:
            total += (b - end).total_seconds()
            end = b
    return total


def _print_compare_classification(rows: list[dict], baselines: dict, base: StudyConfig,
                                  as_json: bool) -> int:
    """Seed 003's Table I: method, optimum, test score (mean ± sd over the final members),
    precision, recall, F1, trials, time; and the baselines' scores on the same test items."""
    label = base.task.label
    if as_json:
        print_json({"table": rows, "baselines": baselines})
        return 0
    meta = ("method", "validation", "metric", "test", "test_std", "trials", "wall_seconds",
            "search_seconds", *(f"test_{k}" for k in CLASSIFY_COMPARED))
    params = list(dict.fromkeys(k for row in rows for k in row if k not in meta))
    t = Table(title=f"Strategies at {base.search.trials} trials, seed {base.search.seed}: "
                    f"test items scored once ({base.search.final_repeats} retrained members)")
    for col in ("method", *params, f"val {label}", f"test {label}", "precision", "recall",
                "F1", "trials", "search", "this run"):
        t.add_column(col, justify="left" if col == "method" else "right")
    for row in rows:
        t.add_row(row["method"], *[_cell(row.get(p)) for p in params],
                  f"{row['validation']:.3f}", f"{row['test']:.3f} ± {row['test_std']:.3f}",
                  *[f"{row[f'test_{k}']:.3f}" for k in CLASSIFY_COMPARED],
                  str(row["trials"]), f"{row['search_seconds']:.1f} s",
                  f"{row['wall_seconds']:.1f} s")
    for name, m in baselines.items():
        t.add_row(name.replace("_", " "), *["—"] * len(params), "—", f"{m['value']:.3f}",
                  *[f"{m[k]:.3f}" for k in CLASSIFY_COMPARED], "—", "—", "—")
    console.print("[dim]search: the wall time the strategy's trials took (also when a run "
                  "resumes them); this run: this command's time for it, the final "
                  "evaluation included.[/]")
    console.print(t)
    return 0
