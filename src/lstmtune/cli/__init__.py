"""The ``lstmtune`` command: a thin layer over the library.

Every deliberate error (:class:`~lstmtune.errors.LstmtuneError`) becomes one line on stderr
and exit code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lstmtune._version import __version__
from lstmtune.cli._commands import cmd_baseline, cmd_datasets, cmd_demo, cmd_prepare
from lstmtune.cli._common import (
    MAX_HORIZON,
    Parser,
    add_data_options,
    add_preprocessing_options,
    whole,
)
from lstmtune.cli._experiment import add_experiment_options, cmd_experiment
from lstmtune.cli._model import (
    add_predict_options,
    add_study_options,
    cmd_dashboard,
    cmd_predict,
    cmd_report,
)
from lstmtune.cli._tune import add_tune_options, cmd_compare, cmd_tune
from lstmtune.errors import LstmtuneError

__all__ = ["main", "build_parser"]


def _doc(fn) -> str:
    import inspect

    return inspect.cleandoc(fn.__doc__ or "")


def _hyperparameters() -> str:
    """The vocabulary, one line a name, for the help of experiment and tune."""
    import textwrap

    from lstmtune.experiment import PARAMS

    lines = textwrap.wrap(
        "hyperparameters: the names of --vary/--set and of a study file's [space], "
        "[preprocessing], [model] and [training] (groups such as indicators are written a+b "
        "on the command line, as lists in study files):", 88)
    for name, p in PARAMS.items():
        default = str(p.default).lower() if isinstance(p.default, bool) else p.default
        text = f"{name} (default {default})"
        if p.help:
            text += f": {p.help}"
        lines += textwrap.wrap(text, 88, initial_indent="  ", subsequent_indent="      ")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="lstmtune",
        description="Find the best LSTM for your time series: leak-free walk-forward "
                    "validation, repeats, and populations of LSTMs trained at once.")
    parser.add_argument("--version", action="version", version=f"lstmtune {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("datasets", help="list the built-in datasets",
                       description=_doc(cmd_datasets))
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("baseline", help="score naive baselines on the test window",
                       description=_doc(cmd_baseline))
    add_data_options(p)
    p.add_argument("--horizon", type=whole(1, MAX_HORIZON), default=1, metavar="H",
                   help="steps forecast from each origin (default 1)")
    p.add_argument("--json", action="store_true",
                   help="print {baseline: {metric: value}} as JSON")
    p.set_defaults(func=cmd_baseline)

    p = sub.add_parser("prepare", help="check data + preprocessing and show the framed splits",
                       description=_doc(cmd_prepare))
    add_data_options(p, min_test=0)
    add_preprocessing_options(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("experiment", help="vary hyperparameters with repeats and compare",
                       description=_doc(cmd_experiment), epilog=_hyperparameters(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_options(p)
    add_experiment_options(p)
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser("tune", help="search hyperparameters (Optuna strategies, populations)",
                       description=_doc(cmd_tune), epilog=_hyperparameters(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_tune_options(p)
    p.set_defaults(func=cmd_tune)

    p = sub.add_parser("compare", help="compare search strategies at one budget",
                       description=_doc(cmd_compare))
    add_tune_options(p, compare=True)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("report", help="write a study's (or experiment's) HTML report",
                       description=_doc(cmd_report))
    add_study_options(p)
    p.add_argument("--out", metavar="FILE",
                   help="HTML file (default: report.html in the study folder)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("predict", help="forecast the next values with a saved model",
                       description=_doc(cmd_predict))
    add_predict_options(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("dashboard", help="open optuna-dashboard on a study",
                       description=_doc(cmd_dashboard))
    add_study_options(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=whole(1, 65535), default=8080)
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser("demo", help="run the main job on the built-in Shampoo data",
                       description=_doc(cmd_demo))
    p.add_argument("--out", default="lstmtune-out/demo", metavar="DIR",
                   help="report folder (default lstmtune-out/demo)")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or one line from Parser.error
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 0
    args.argv = list(sys.argv[1:] if argv is None else argv)  # `tune --workers` repeats it
    try:
        return int(args.func(args) or 0)
    except LstmtuneError as exc:
        if args.debug:
            raise
        message = " ".join(str(exc).splitlines())  # one line; quoted values kept as they are
        print(f"lstmtune: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `lstmtune ... --json | head`: the reader left, not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        if args.debug or exc.filename is None and exc.errno is None:
            raise  # not the file system's answer: a bug, shown as one
        where = f" '{exc.filename}'" if exc.filename else ""
        print(f"lstmtune: error: the file system refused{where} ({exc.strerror or exc}): "
              "check the path, the free space and the permissions, then run the command "
              "again.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lstmtune: interrupted; finished work is saved (run the same command again to "
              "resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
