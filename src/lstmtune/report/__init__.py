"""Report layer: pure functions from result tables to files (plots, HTML). Reads tables, never
models; imports matplotlib lazily so the CLI starts fast."""

from lstmtune.report._baseline import baseline_report

__all__ = ["baseline_report"]
