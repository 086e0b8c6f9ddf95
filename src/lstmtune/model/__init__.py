"""Model layer: a tuned configuration as an ensemble of its R repeat members — trained,
saved as a model directory (JSON + npz, never pickle), loaded with integrity checks, and used
to forecast the next values with the members' spread.  Sits above experiment (whose builders
turn a configuration into specs) and below search (which exports the best) and cli.
"""

from lstmtune.model._classifier import Classifier, fit_classifier, save_classifier
from lstmtune.model._committee import Committee
from lstmtune.model._ensemble import POINTS, Ensemble, check_future, time_label
from lstmtune.model._estimator import LSTMForecaster
from lstmtune.model._fit import fit_ensemble
from lstmtune.model._io import ModelError, load_model, save_model
from lstmtune.model._panel import PanelModel

__all__ = ["Committee", "Ensemble", "POINTS", "LSTMForecaster", "fit_ensemble", "load_model",
           "save_model", "ModelError", "time_label", "check_future", "Classifier", "fit_classifier",
           "save_classifier", "PanelModel"]
