"""Search layer: spaces, study files, strategies on Optuna, the study loop and its storage.

Strategies know no JAX: they are Optuna samplers.  The loop (``tune``) trains candidates as
populations through the experiment layer's ``evaluate_configs``.
"""

from lstmtune.search._config import (
    AGGREGATES,
    LIMITS,
    PRUNERS,
    STRATEGIES,
    DataConfig,
    SearchConfig,
    StudyConfig,
    load_study_file,
    may_impute,
    resolve_sizes,
    study_from_dict,
)
from lstmtune.search._final import BASELINE_NAMES, FINAL, FORECAST, HISTORY
from lstmtune.search._hybrid import HYBRID_TRIALS
from lstmtune.search._labelled import check_labelled
from lstmtune.search._panel import check_panel, read_panel
from lstmtune.search._preflight import fit_space, preflight
from lstmtune.search._space import DEFAULT_SPACE, Choice, Fixed, Range, Space, parse_space
from lstmtune.search._storage import check_storage, close_storages, describe_url, storage_file
from lstmtune.search._tune import (
    TuneResult,
    aggregate,
    leaderboard,
    member_scores,
    open_study,
    storage_from_url,
    tune,
)

__all__ = ["AGGREGATES", "PRUNERS", "STRATEGIES", "DataConfig", "SearchConfig", "StudyConfig",
           "load_study_file", "study_from_dict", "DEFAULT_SPACE", "Choice", "Fixed", "Range",
           "Space", "parse_space", "TuneResult", "aggregate", "leaderboard", "open_study",
           "tune", "member_scores", "storage_from_url", "close_storages", "LIMITS", "may_impute",
           "resolve_sizes", "BASELINE_NAMES", "FINAL", "FORECAST", "HISTORY", "fit_space",
           "preflight",
           "describe_url", "check_storage", "storage_file", "check_labelled", "HYBRID_TRIALS",
           "check_panel", "read_panel"]
