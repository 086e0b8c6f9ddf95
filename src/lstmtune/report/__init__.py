"""Report layer: pure functions from result tables to files (plots, HTML). Reads tables, never
models; imports matplotlib lazily so the CLI starts fast."""

from lstmtune.report._baseline import baseline_report
from lstmtune.report._experiment import write_experiment

__all__ = ["baseline_report", "write_experiment"]
