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
    p.add_argument("--skip-unknown", action="store_true",
                   help="a panel model: skip the series of DATA it was not trained on, "
                        "listing them (default: refuse them)")
    p.add_argument("--point", choices=("mean", "median"),
                   help="ensemble point forecast (default: the study's combine, median "
                        "unless set; mean for a model saved without one)")
    p.add_argument("--level", type=number(0, 1, open_low=True, open_high=True),
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


# What each kind of model reads besides MODEL, DATA, --json and --csv; any other predict
# option given is refused, naming the ones it reads.
READS = {
    "forecaster": ("horizon", "point", "level", "time_col", "target", "features", "freq",
                   "future", "sep", "decimal", "date_format"),
    "panel": ("horizon", "series", "skip_unknown", "id_col", "time_col", "target",
              "features", "freq"),
    "classifier": ("text_col",),
}
WHAT = {"forecaster": "this model, which forecasts one series",
        "panel": "a panel model, whose forecast is its members' median (or mean: the "
                 "study's combine) with conformal intervals",
        "classifier": "a classifier, which labels the items in DATA"}


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def refuse_unread(args: argparse.Namespace, kind: str) -> None:
    """Refuse a predict option that a model of ``kind`` would ignore."""
    reads = READS[kind]
    for dest in dict.fromkeys(d for ds in READS.values() for d in ds):
        if dest not in reads and getattr(args, dest, None) not in (None, False):
            raise ConfigError(f"{_flag(dest)} does not apply to {WHAT[kind]}; the options it "
                              f"reads are {', '.join(map(_flag, reads))}, --json and --csv.")


def _listed(ids: list[str], k: int = 3) -> str:
    """The first ``k`` of ``ids``, each cut to 30 characters, with an ellipsis when there
    are more."""
    cut = [repr(i) if len(repr(i)) <= 30 else repr(i)[:29] + "…" for i in ids[:k]]
    return ", ".join(cut) + (", …" if len(ids) > k else "")


def _named_series(text: str | None) -> list[str] | None:
    """The ids ``--series`` names (None: not given), each once."""
    if text is None:
        return None
    named = [s.strip() for s in text.split(",") if s.strip()]
    if not named:
        raise ConfigError(f"--series {_listed([text], 1)} names no series: give the ids "
                          "separated by commas, e.g. --series S1,S2.")
    seen: set[str] = set()
    for sid in named:
        if sid in seen:
            raise ConfigError(f"--series names {_listed([sid], 1)} more than once: name each "
                              "series once.")
        seen.add(sid)
    return named


def _known_series(model, panel, named: list[str] | None, args: argparse.Namespace
                  ) -> tuple[list[str], list[str]]:
    """The series of ``panel`` to forecast (``named``, or all) and those skipped: a series
    the model was not trained on is refused unless ``--skip-unknown``."""
    if named is not None:
        absent = [s for s in named if s not in panel.series]
        if absent:
            raise DataError(f"--series {_listed(absent, 1)}: '{args.data}' has no such series "
                            f"(it has {len(panel)}: {_listed(panel.ids)}).")
    known = set(model.ids)
    candidates = named if named is not None else list(panel.ids)
    unknown = [s for s in candidates if s not in known]
    if unknown and not args.skip_unknown:
        which = "names" if named is not None else "holds"
        source = "--series" if named is not None else f"'{args.data}'"
        raise DataError(f"{source} {which} {len(unknown)} series the model '{args.model}' was "
                        f"not trained on ({_listed(unknown)}); it knows {len(model.ids)} "
                        f"({_listed(model.ids)}): forecast those with --series, or pass "
                        "--skip-unknown to skip the others.")
    wanted = [s for s in candidates if s in known]
    if not wanted:
        raise DataError(f"'{args.data}' has none of the {len(model.ids)} series of the model "
                        f"'{args.model}' ({_listed(model.ids)}): give the panel it was tuned "
                        "on, or a table with the same series ids.")
    return wanted, unknown


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
    refuse_unread(args, "forecaster")
    args.point = args.point or ens.point  # the study's combine, else the mean
    args.level = 0.9 if args.level is None else args.level
    args.horizon = args.horizon or 1
    ts = load(args.data, time_col=args.time_col, target=args.target, features=args.features,
              freq=args.freq, allow_missing=ens.imputes,
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

    refuse_unread(args, "panel")
    named = _named_series(args.series)
    prep = model.preps[0]
    features = [c.strip() for c in args.features.split(",")] if args.features else \
        list(prep.exog_names) or None
    panel = load_panel(args.data, id_col=args.id_col or "unique_id",
                       time_col=args.time_col or "ds", target=args.target or "y",
                       freq=args.freq, features=features,
                       allow_missing=prep.preprocessing.impute is not None)
    wanted, skipped = _known_series(model, panel, named, args)
    if skipped:
        more = f", … ({len(skipped)} in all; --json lists every one)" \
            if len(skipped) > 20 else ""
        print(f"lstmtune: note: skipped {len(skipped)} series of '{args.data}' that the model "
              f"was not trained on (--skip-unknown): {_listed(skipped, 20)}{more}.",
              file=sys.stderr)
    fc = model.forecast({sid: panel.series[sid] for sid in wanted}, args.horizon)
    # The levels without an interval, and why: the study's reason saved with the model, the
    # forecast's for saved half-widths it cannot use, or a level an earlier lstmtune saved
    # unbounded (left out on load).
    from rich.markup import escape

    from lstmtune.evaluation import LEVELS

    have = {int(c[3:]) for c in fc.columns if c.startswith("lo_")}
    saved = model.info.get("intervals_missing")
    why = {**(saved if isinstance(saved, dict) else {}),
           **fc.attrs.get("intervals_missing", {})}
    old = ("this model file holds none (an earlier lstmtune saved it unbounded when there "
           "were too few validation residuals, and such a level is left out on load); tune "
           "again, with more --folds or more series, for one.")
    missing: dict[str, str] = {}
    for level, reason in [*why.items(), *((str(x), old) for x in LEVELS)]:
        try:
            pct = round(100 * float(level))
        except (TypeError, ValueError, OverflowError):
            continue
        if pct not in have:
            have.add(pct)
            text = " ".join(str(reason).split())  # one line, whatever the file holds
            missing[str(level)] = text if len(text) <= 400 else text[:399] + "…"
    notes = [f"no {round(100 * float(k))} % interval: {v}" for k, v in missing.items()]
    if args.csv:
        fc.to_csv(sys.stdout, index=False)
        for line in notes:
            print(f"lstmtune: note: {line}", file=sys.stderr)
        return 0
    if args.json:
        print_json({"model": str(args.model), "data": str(args.data),
                    "horizon": int(fc["step"].max()), "series": len(wanted),
                    "skipped": skipped, "kind": model.kind, "members": model.repeats,
                    "intervals_missing": missing, "forecast": fc.to_dict(orient="records")})
        return 0
    t = Table(title=f"{len(wanted)} series: next {int(fc['step'].max())} value(s), the mean "
                    f"of {model.repeats} members ({model.kind} model); conformal intervals")
    code = _print_rows(t, fc, left=("unique_id", "ds"))
    for line in notes:
        console.print(f"[dim]{escape(line)}[/]")
    return code


def _classify(clf, args: argparse.Namespace) -> int:
    """Probabilities and labels of new items from a saved classifier (its vocabulary or
    scaler saved with it)."""
    import pandas as pd

    from lstmtune.data import load_items

    refuse_unread(args, "classifier")
    if args.text_col is not None and clf.task.inputs != "text":
        raise ConfigError(f"--text-col names the text column of a table of texts; the model "
                          f"'{args.model}' classifies {clf.task.inputs} sequences: drop it.")
    items = load_items(args.data, text_col=args.text_col)
    if items.kind != clf.task.inputs:
        kinds = {"text": "texts", "tokens": "token ids (.npz)", "numeric": "numeric sequences"}
        raise DataError(f"'{args.data}' holds {kinds[items.kind]}, but the model "
                        f"'{args.model}' was trained on {kinds[clf.task.inputs]} (its "
                        "model.json): give it items of that kind.")
    if items.kind == "numeric" and items.channels != clf.spec.n_features:
        raise DataError(f"'{args.data}' has {items.channels} channel(s); the model "
                        f"'{args.model}' was trained on {clf.spec.n_features} (its model.json): "
                        "give it sequences of that many channels.")
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
