"""Experiment layer: seed 000's method as a library — vary hyperparameters, repeat every
configuration, compare distributions.  Uses data, engine and evaluation; no Optuna."""

from lstmtune.experiment._params import PARAMS, parse_assignment
from lstmtune.experiment._recipes import RECIPES, TUTORIAL_FIXED, published, recipe_specs
from lstmtune.experiment._run import (
    ExperimentResult,
    ExperimentSpec,
    check_experiment,
    run_experiment,
)
from lstmtune.experiment._stats import compare, describe, describe_table, summarize

__all__ = ["PARAMS", "parse_assignment", "RECIPES", "TUTORIAL_FIXED", "published",
           "recipe_specs", "ExperimentResult", "ExperimentSpec", "run_experiment",
           "check_experiment", "compare",
           "describe", "describe_table", "summarize"]
