"""The members of a study's K best configurations forecasting as one (``[search]
ensemble_top = K``): each configuration an :class:`Ensemble` with its own preprocessing and
model, their members' forecasts pooled and combined by the study's ``combine``.

Saved as a folder of K forecaster models (``config-0`` the best on validation, then the
next) beside a ``model.json`` of format ``lstmtune-committee`` that lists them, with the
same checksummed layout as every lstmtune model (its ``params.npz`` holds no weights)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmtune.data import TimeSeries
from lstmtune.errors import ConfigError
from lstmtune.model._ensemble import Ensemble, check_point, forecast_table, point_of

__all__ = ["Committee", "COMMITTEE_FORMAT", "save_committee", "load_committee"]

COMMITTEE_FORMAT = "lstmtune-committee"
COMMITTEE_VERSION = 1
MAX_CONFIGS = 20  # as [search] ensemble_top


@dataclass(frozen=True, eq=False)
class Committee:
    """K trained configurations (``ensembles``, best on validation first) as one model."""

    ensembles: tuple[Ensemble, ...]
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.ensembles:
            raise ConfigError("a committee needs at least one trained configuration.")
        horizons = {e.config.get("horizon") for e in self.ensembles}
        if len(horizons) > 1:  # a direct model's head is H wide, a recursive one's 1
            raise ConfigError(f"a committee's configurations must forecast the same "
                              f"horizon, got {sorted(horizons, key=str)}.")

    @property
    def repeats(self) -> int:
        """Members of every configuration together."""
        return sum(e.repeats for e in self.ensembles)

    @property
    def point(self) -> str:
        """How the pooled members make one forecast: the study's ``combine``, else mean."""
        return point_of(self.info)

    @property
    def imputes(self) -> bool:
        return any(e.imputes for e in self.ensembles)

    def member_forecasts(self, ts: TimeSeries, horizon: int,
                         future: pd.DataFrame | None = None) -> np.ndarray:
        """Every configuration's members' forecasts of the ``horizon`` points after ``ts``,
        pooled: (sum of R, H), the best configuration's first."""
        return np.concatenate([e.member_forecasts(ts, horizon, future)
                               for e in self.ensembles])

    def forecast(self, ts: TimeSeries, horizon: int, *, point: str | None = None,
                 level: float = 0.9, future: pd.DataFrame | None = None) -> pd.DataFrame:
        """As :meth:`Ensemble.forecast`, over the pooled members of every configuration."""
        point = self.point if point is None else point
        check_point(point, level)
        return forecast_table(self.member_forecasts(ts, horizon, future), ts, horizon,
                              point=point, level=level)


def save_committee(c: Committee, path: Path) -> Path:
    """Each configuration saved as a forecaster model (``config-k``) and the committee's
    ``model.json``, written in a temporary folder and renamed into place."""
    from lstmtune.model._io import save_model, write_model_dir

    names = [f"config-{k}" for k in range(len(c.ensembles))]

    def configurations(tmp: Path) -> None:
        for name, e in zip(names, c.ensembles, strict=True):
            save_model(e, tmp / name)

    doc = {"format": COMMITTEE_FORMAT, "format_version": COMMITTEE_VERSION,
           "configurations": names, "info": c.info}
    # no weights of its own (an empty params.npz): they are in each configuration's folder
    return write_model_dir(path, doc, {}, inside=configurations)


def load_committee(path: Path, doc: dict[str, Any]) -> Committee:
    """The committee a verified ``model.json`` (``doc``) describes: every configuration a
    forecaster model folder beside it, read and checked as one."""
    from lstmtune.model._io import ModelError, check_version, entry, load_model, shown, table

    check_version(path, doc, COMMITTEE_VERSION, "committee")
    names = doc.get("configurations")
    if not (isinstance(names, list) and 1 <= len(names) <= MAX_CONFIGS
            and all(isinstance(n, str) and n.startswith("config-") and "/" not in n
                    and "\\" not in n and n not in (".", "..") for n in names)
            and len(set(names)) == len(names)):
        raise ModelError(f"{path / 'model.json'}: 'configurations' must list 1 to "
                         f"{MAX_CONFIGS} folder names config-0, config-1, … beside it, got "
                         f"{shown(names)}; re-export the model.")
    info = dict(entry(path, doc, "info", table, default={}))
    ensembles = []
    for name in names:
        sub = load_model(path / name)
        if not isinstance(sub, Ensemble):
            raise ModelError(f"{path / name} is not a forecaster model (a committee holds "
                             "one per configuration); re-export the model.")
        ensembles.append(sub)
    try:
        return Committee(ensembles=tuple(ensembles), info=info)
    except ConfigError as exc:
        raise ModelError(f"{path / 'model.json'}: {exc} Re-export the model.") from None
