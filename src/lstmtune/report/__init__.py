"""Report layer: a study's stored tables (``load_study_tables``), then pure functions from
result tables to files (plots, HTML). Reads tables, never models; imports matplotlib lazily so
the CLI starts fast."""

from lstmtune.report._baseline import baseline_report
from lstmtune.report._experiment import write_experiment
from lstmtune.report._experiment_page import experiment_report, render_experiment
from lstmtune.report._load import load_study_tables, resolve_study
from lstmtune.report._study import render_study, write_study_report
from lstmtune.report._tables import StudyTables

__all__ = ["baseline_report", "write_experiment", "load_study_tables", "resolve_study",
           "StudyTables", "render_study", "write_study_report", "experiment_report",
           "render_experiment"]
