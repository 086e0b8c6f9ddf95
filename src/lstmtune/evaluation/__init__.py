"""Evaluation layer: metrics and baselines in original units, walk-forward.

Knows numpy and pandas only.
"""

from lstmtune.evaluation._baselines import (
    BASELINES,
    drift,
    evaluate_baselines,
    fitting_season,
    mean_forecast,
    persistence,
    seasonal_naive,
    walk_forward_forecasts,
)
from lstmtune.evaluation._metrics import (
    METRICS,
    compute_metrics,
    get_metric,
    mae,
    mape,
    mase,
    metric_value,
    owa_value,
    rmse,
    smape,
)

__all__ = [
    "BASELINES", "drift", "evaluate_baselines", "fitting_season", "mean_forecast",
    "persistence", "seasonal_naive", "walk_forward_forecasts",
    "METRICS", "compute_metrics", "get_metric", "metric_value", "owa_value", "mae", "mape",
    "mase", "rmse", "smape",
]

from lstmtune.evaluation._members import (  # noqa: E402
    COMBINE,
    Fold,
    MemberRun,
    combine_members,
    fit_global,
    fit_members,
    score_combined,
)

__all__ += ["COMBINE", "Fold", "MemberRun", "combine_members", "fit_members", "fit_global",
            "score_combined"]

from lstmtune.evaluation._m4 import acf, naive2, owa, seasonal_indices, seasonality_test  # noqa: E402, I001

__all__ += ["acf", "naive2", "owa", "seasonal_indices", "seasonality_test"]

from lstmtune.evaluation._classify import (  # noqa: E402
    CLASS_METRICS,
    MINIMISED,
    ClassFold,
    ClassifierRun,
    best_threshold,
    class_metric,
    class_metrics,
    classification_baselines,
    confusion,
    fit_classifiers,
    pr_curve,
    probabilities,
    roc_curve_points,
)

__all__ += ["CLASS_METRICS", "MINIMISED", "ClassFold", "ClassifierRun", "best_threshold",
            "class_metric", "class_metrics", "classification_baselines", "confusion",
            "fit_classifiers", "pr_curve", "probabilities", "roc_curve_points"]

from lstmtune.evaluation._panel import (  # noqa: E402
    CLASSICAL,
    LEVELS,
    SINGLE_CLASSICAL,
    classical_forecasts,
    classical_walk_forward,
    conformal,
    mase_scale,
    paired,
    panel_scores,
)

__all__ += ["CLASSICAL", "LEVELS", "SINGLE_CLASSICAL", "classical_walk_forward",
            "classical_forecasts", "conformal", "mase_scale", "paired",
            "panel_scores"]
