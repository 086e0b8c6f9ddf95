"""`lstmtune predict`, `lstmtune report` and `lstmtune dashboard`: using what a study left."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lstmtune._files import check_output_file
from lstmtune.cli._common import (
    MAX_HORIZON,
    add_format_options,
    format_options,
    name_text,
    number,
    print_json,
    whole,
)
from lstmtune.data import load
from lstmtune.errors import ConfigError, DataError

console = Console()
err = Console(stderr=True)

INTERVAL_NOTE = ("low/high: quantiles of the {n} repeat members' forecasts. They show how "
                 "much the forecast depends on the random initialisation only, and leave out "
                 "the noise of the series and the model's own error: not a prediction "
                 "interval.")


def add_predict_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL",
                   help="model directory (e.g. lstmtune-out/shampoo/model)")
    p.add_argument("data", metavar="DATA",
                   help="the series to continue: built-in name or CSV/Parquet file; for a "
                        "classifier, the items to classify: a .txt file (one text per line), "
                        "a CSV/Parquet table (--text-col), a folder of .txt files, .ts or "
                        ".npz")
    p.add_argument("--horizon", type=whole(1, MAX_HORIZON), metavar="H",
                   help="values to forecast after the end of DATA (default 1; a panel "
                        "model: its tuned horizon)")
    p.add_argument("--series", metavar="ID1,ID2",
                   help="a panel model: forecast only these series of DATA (default: every "
                        "series of DATA)")
    p.add_argument("--point", choices=("mean", "median"), default="mean",
                   help="ensemble point forecast (default mean)")
    p.add_argument("--level", type=number(0, 1, open_low=True, open_high=True), default=0.9,
                   metavar="L",
                   help="members' quantile range shown as low/high (default 0.9: 5%%-95%%)")
    g = p.add_argument_group("data")
    g.add_argument("--time-col", metavar="C")
    g.add_argument("--target", metavar="C")
    g.add_argument("--id-col", metavar="C", help="a panel's long table: the series id column "
                                                 "(default unique_id)")
    g.add_argument("--features", metavar="C1,C2")
    g.add_argument("--freq", metavar="F")
    g.add_argument("--text-col", metavar="C",
                   help="a classifier's table: the text column (default text)")
    g.add_argument("--future", metavar="FILE",
                   help="CSV of the known feature columns' values over the forecast steps "
                        "(one row per step; an optional first time column is checked)")
    add_format_options(g)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--csv", action="store_true", help="print the forecast table as CSV")


def read_future(path: str, sep: str = ",", decimal: str = "."):
    """The ``--future`` CSV (the data's ``--sep``/``--decimal``) as a frame; a first column
    that is no number becomes ``time``."""
    import csv

    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise DataError(f"--future '{p}' is not a file: give a CSV with the known features' "
                        "future values.")
    try:
        frame = pd.read_csv(p, sep=sep, decimal=decimal)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            csv.Error) as exc:
        raise DataError(f"--future '{p}' cannot be read as CSV ({exc}); write one row per "
                        "step with a header, e.g. date,holiday.") from None
    first = frame.columns[0] if len(frame.columns) else None
    if first is not None and not pd.api.types.is_numeric_dtype(frame[first]):
        frame = frame.rename(columns={first: "time"})
    return frame


def cmd_predict(args: argparse.Namespace) -> int:
    """Forecast the next H values after DATA with a saved model: its R repeat members form
    an ensemble (point forecast = their mean or median, low/high = their spread)."""
    from lstmtune.model import Classifier, PanelModel, load_model

    ens = load_model(args.model)
    if isinstance(ens, Classifier):
        return _classify(ens, args)
    if isinstance(ens, PanelModel):
        return _panel(ens, args)
    for flag in ("series", "id_col"):
        if getattr(args, flag) is not None:
            raise ConfigError(f"--{flag.replace('_', '-')} applies to a panel model; this "
                              "model forecasts one series.")
    args.horizon = args.horizon or 1
    ts = load(args.data, time_col=args.time_col, target=args.target, features=args.features,
              freq=args.freq, allow_missing=ens.prep.preprocessing.impute is not None,
              **format_options(args))
    future = read_future(args.future, args.sep or ",", args.decimal or ".") \
        if args.future else None
    fc = ens.forecast(ts, args.horizon, point=args.point, level=args.level, future=future)
    if args.csv:
        fc.to_csv(sys.stdout, index=False)
        return 0
    if args.json:
        cols = ["time", "step", "forecast", "low", "high", "mean", "median", "std"]
        print_json({"model": str(args.model), "data": ts.name, "horizon": args.horizon,
                    "point": args.point, "level": args.level, "members": fc.attrs["members"],
                    "diverged": fc.attrs["diverged"],
                    "interval_note": INTERVAL_NOTE.format(n=fc.attrs["members"]),
                    "forecast": fc[cols].to_dict(orient="records"),
                    "member_forecasts": fc[[c for c in fc.columns
                                            if c.startswith("member_")]].T.values.tolist()})
        return 0
    print_forecast(fc, f"{ts.name}: next {args.horizon} value(s), {fc.attrs['members']} "
                       f"members ({args.point})")
    return 0


def _panel(model, args: argparse.Namespace) -> int:
    """Forecasts of every series of a panel (or the ones named) as one long table, with the
    conformal intervals the study calibrated."""
    from lstmtune.data import load_panel

    for flag, given in (("--future", args.future), ("--point", args.point != "mean"),
                        ("--level", args.level != 0.9)):
        if given:
            raise ConfigError(f"{flag} does not apply to a panel model: its forecast is the "
                              "members' mean, with conformal intervals (lo_80, hi_80, lo_95, "
                              "hi_95).")
    prep = model.preps[0]
    features = [c.strip() for c in args.features.split(",")] if args.features else \
        list(prep.exog_names) or None
    panel = load_panel(args.data, id_col=args.id_col or "unique_id",
                       time_col=args.time_col or "ds", target=args.target or "y",
                       freq=args.freq, features=features,
                       allow_missing=prep.preprocessing.impute is not None)
    wanted = [s.strip() for s in args.series.split(",") if s.strip()] if args.series else \
        [i for i in panel.ids if i in model.ids]
    for sid in wanted:
        if sid not in panel.series:
            raise DataError(f"--series {sid}: '{args.data}' has no series '{sid}' (it has "
                            f"{len(panel)}, e.g. {', '.join(panel.ids[:3])}).")
        if sid not in model.ids:
            raise DataError(f"series '{sid}' of '{args.data}' is not in the model: it was "
                            f"trained on {len(model.ids)} series (e.g. "
                            f"{', '.join(model.ids[:3])}); pass --series with those.")
    if not wanted:
        raise DataError(f"'{args.data}' has none of the model's series (e.g. "
                        f"{', '.join(model.ids[:3])}): give the panel it was tuned on, or "
                        "a table with the same series ids.")
    fc = model.forecast({sid: panel.series[sid] for sid in wanted}, args.horizon)
    if args.csv:
        fc.to_csv(sys.stdout, index=False)
        return 0
    if args.json:
        print_json({"model": str(args.model), "data": str(args.data),
                    "horizon": int(fc["step"].max()), "series": len(wanted),
                    "kind": model.kind, "members": model.repeats,
                    "forecast": fc.to_dict(orient="records")})
        return 0
    t = Table(title=f"{len(wanted)} series: next {int(fc['step'].max())} value(s), the mean "
                    f"of {model.repeats} members ({model.kind} model); conformal intervals")
    return _print_rows(t, fc, left=("unique_id", "ds"))


def _classify(clf, args: argparse.Namespace) -> int:
    """Probabilities and labels of new items from a saved classifier (its vocabulary or
    scaler saved with it)."""
    import pandas as pd

    from lstmtune.data import load_items

    if args.future:
        raise ConfigError("--future applies to forecasting models; a classifier reads only "
                          "the items to classify.")
    items = load_items(args.data, text_col=args.text_col)
    if items.kind != clf.task.inputs:
        kinds = {"text": "texts", "tokens": "token ids (.npz)", "numeric": "numeric sequences"}
        raise DataError(f"'{args.data}' holds {kinds[items.kind]}, but the model was trained "
                        f"on {kinds[clf.task.inputs]}: give it items of that kind.")
    if items.kind == "numeric" and items.channels != clf.spec.n_features:
        raise DataError(f"'{args.data}' has {items.channels} channel(s); the model was trained "
                        f"on {clf.spec.n_features}.")
    prob = clf.predict_proba(items)
    labels = clf.predict(items)
    frame = pd.DataFrame({"item": range(len(items)), "label": labels,
                          **{f"p_{c}": prob[:, k] for k, c in enumerate(clf.classes)}})
    if items.texts is not None:
        frame.insert(1, "text", [t[:80] for t in items.texts])
    if args.csv:
        frame.to_csv(sys.stdout, index=False)
        return 0
    if args.json:
        print_json({"model": str(args.model), "data": str(args.data),
                    "classes": list(clf.classes), "threshold": clf.threshold,
                    "members": clf.repeats, "items": frame.to_dict(orient="records")})
        return 0
    t = Table(title=f"{len(items)} item(s): the mean probability of {clf.repeats} members; "
                    + (f"label at threshold {clf.threshold:.3f} (chosen on validation)"
                       if len(clf.classes) == 2 else "label: the most probable class"))
    return _print_rows(t, frame, left=("text", "label"))


def _print_rows(t: Table, frame, left: tuple[str, ...], limit: int = 200) -> int:
    """The first ``limit`` rows of ``frame`` in table ``t`` (``left`` columns left-aligned),
    and how many more --csv or --json would give."""
    for col in frame.columns:
        t.add_column(col, justify="left" if col in left else "right")
    for _, row in frame.head(limit).iterrows():
        t.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
    console.print(t)
    if len(frame) > limit:
        console.print(f"[dim]{len(frame) - limit} more rows: use --csv or --json.[/]")
    return 0


def print_forecast(fc, title: str) -> None:
    """An ``Ensemble.forecast`` table in the terminal, with what its range means."""
    lo, hi = (1 - fc.attrs["level"]) / 2 * 100, (1 + fc.attrs["level"]) / 2 * 100
    t = Table(title=title)
    for col in ("time", "forecast", f"low ({lo:g}%)", f"high ({hi:g}%)"):
        t.add_column(col, justify="left" if col == "time" else "right")
    for _, row in fc.iterrows():
        t.add_row(row["time"], f"{row['forecast']:.3f}", f"{row['low']:.3f}",
                  f"{row['high']:.3f}")
    console.print(t)
    console.print(f"[dim]{INTERVAL_NOTE.format(n=fc.attrs['members'])}[/]")


def add_study_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", metavar="STUDY",
                   help="the --out folder of `lstmtune tune` (or of `experiment`), or a "
                        "storage URL (sqlite:///..., postgresql://..., journal:///...)")
    p.add_argument("--study-name", type=name_text, metavar="NAME",
                   help="which study (needed when the storage holds several)")


def write_report(study: str, study_name: str | None, out: Path | None) -> Path:
    """The report of a tune folder/storage or of an experiment folder; returns its path.
    The file is ``out``, or ``report.html`` in the folder: never a name read from a
    storage."""
    from lstmtune import report

    folder = Path(study)
    if "://" in study and out is None:
        raise ConfigError(f"a storage URL ({study.split('://', 1)[0]}://…) has no folder to "
                          "put the report in: give the file with --out, e.g. --out "
                          "report.html.")
    base = folder if folder.is_dir() else folder.parent  # a folder, or its study.db
    target = check_output_file(out if out is not None else base / "report.html",
                               "--out" if out is not None else f"'{base}': report.html")
    if "://" not in study and folder.is_dir() and not (folder / "study.db").exists() and \
            any(folder.glob("*summary.json")):
        return report.experiment_report(folder, target)
    url, name = report.resolve_study(study, study_name)
    return report.write_study_report(report.load_study_tables(url, name), target)


def cmd_report(args: argparse.Namespace) -> int:
    """Write one self-contained HTML report (plots embedded, no network) from a study's
    stored tables: summary, leaderboard, best configuration and its test score beside the
    baselines, repeats, per-epoch curves, history, importance, parallel coordinates, the
    test-window forecast and residuals.  Nothing is retrained."""
    path = write_report(args.study, args.study_name, Path(args.out) if args.out else None)
    console.print(f"Report written to [bold]{path}[/] ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Open optuna-dashboard on the study's storage (an optional package: pip install
    optuna-dashboard)."""
    from lstmtune.report import resolve_study
    from lstmtune.search import describe_url, storage_from_url

    url, name = resolve_study(args.study, args.study_name)
    try:
        import optuna_dashboard
    except ImportError:
        raise ConfigError("optuna-dashboard is not installed: run `pip install "
                          "optuna-dashboard` (or `pip install 'lstmtune[dashboard]'`) in this "
                          "environment, then run this command again.") from None
    err.print(f"optuna-dashboard on {describe_url(url)} (study '{name}'): open "
              f"http://{args.host}:{args.port}/dashboard/ — Ctrl-C stops it.")
    optuna_dashboard.run_server(storage_from_url(url).backend, host=args.host, port=args.port)
    return 0


__all__ = ["add_predict_options", "cmd_predict", "add_study_options", "cmd_report",
           "cmd_dashboard", "write_report", "print_forecast"]
