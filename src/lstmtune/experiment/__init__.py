"""Experiment layer: the hyperparameter vocabulary and the configuration object, the task
seam (what a problem prepares, models and scores), seed 000's method as a library (vary
hyperparameters, repeat every configuration, compare distributions) and the scoring of many
configurations as populations.  Uses data, engine and evaluation; no Optuna.

The layers above (model, search, report, cli) import from here, never from the private
modules."""

from lstmtune.experiment._classify import (
    ClassificationTask,
    class_weights,
    encode_items,
    pad_steps,
)
from lstmtune.experiment._evaluate import (
    ConfigScores,
    evaluate_configs,
    fit_config,
    fold_series,
    prepare_fold,
)
from lstmtune.experiment._panel import PANEL_METRICS, PanelTask
from lstmtune.experiment._params import (
    ALIASES,
    CLASSIFY_ONLY,
    CLASSIFY_READS,
    MEMORY_FRACTION,
    PANEL_ONLY,
    PARAMS,
    Config,
    Param,
    build_train,
    check_memory,
    complete,
    group_key,
    machine_memory,
    member_hparams,
    n_inputs,
    param_name,
    parse_assignment,
    parse_value,
)
from lstmtune.experiment._recipes import RECIPES, TUTORIAL_FIXED, published, recipe_specs
from lstmtune.experiment._run import (
    ExperimentResult,
    ExperimentSpec,
    check_experiment,
    run_experiment,
)
from lstmtune.experiment._stats import compare, describe, describe_table, summarize
from lstmtune.experiment._task import SCORED, ForecastTask

__all__ = ["Config", "Param", "PARAMS", "ALIASES", "CLASSIFY_ONLY", "CLASSIFY_READS",
           "PANEL_ONLY", "PanelTask", "PANEL_METRICS",
           "complete", "param_name", "parse_value",
           "parse_assignment", "group_key", "check_memory", "n_inputs", "machine_memory",
           "MEMORY_FRACTION", "build_train", "member_hparams",
           "ForecastTask", "SCORED", "ClassificationTask", "encode_items", "class_weights",
           "pad_steps",
           "ConfigScores", "evaluate_configs", "fit_config", "fold_series", "prepare_fold",
           "RECIPES", "TUTORIAL_FIXED", "published", "recipe_specs",
           "ExperimentResult", "ExperimentSpec", "run_experiment", "check_experiment",
           "compare", "describe", "describe_table", "summarize"]
