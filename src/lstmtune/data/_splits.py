"""Chronological splits and walk-forward windows as plain index ranges.

Nothing here looks at values: every function takes the series length ``n`` and returns slices
or integer index arrays, oldest first.  Vocabulary follows statsforecast (``horizon``,
``n_windows``, ``step``, cutoff) and the feasibility checks follow scikit-learn's
``TimeSeriesSplit``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lstmtune.errors import ConfigError, SplitError

__all__ = ["Split", "WalkForward", "chronological_split", "resolve_size"]


def _check_int(value: object, name: str, *, minimum: int) -> int:
    """Return ``value`` as an int, or raise ConfigError if it is not an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(
            f"{name} must be an integer >= {minimum}, got {value!r} "
            f"({type(value).__name__}). Pass a whole number such as {name}={max(minimum, 1)}."
        )
    if value < minimum:
        raise ConfigError(
            f"{name} must be >= {minimum}, got {name}={int(value)}. Use {name}={minimum} or more."
        )
    return int(value)


def resolve_size(size: int | float, n: int, name: str) -> int:
    """Turn a size given as a count or as a fraction of ``n`` into a count.

    Parameters
    ----------
    size : int or float
        A count ``>= 0``, or a fraction strictly between 0 and 1 of ``n``, rounded up
        (``ceil(size * n)``, as scikit-learn rounds ``test_size``; the product is first rounded
        to 9 decimals so that float noise such as ``0.07 * 100 = 7.000000000000001`` gives 7).
    n : int
        Length of the series.
    name : str
        Parameter name used in error messages.

    Returns
    -------
    int
        The size as a number of points; bounds against ``n`` are left to the caller.
    """
    n = _check_int(n, "n", minimum=0)
    if isinstance(size, bool) or not isinstance(size, int | float | np.integer | np.floating):
        raise ConfigError(
            f"{name} must be an integer count or a fraction in (0, 1), got {size!r} "
            f"({type(size).__name__}). Use e.g. {name}=12 or {name}=0.2."
        )
    if isinstance(size, float | np.floating):
        if not 0.0 < size < 1.0:
            raise ConfigError(
                f"{name} as a fraction must lie strictly between 0 and 1, got {name}={size!r}. "
                f"Use a fraction such as {name}=0.2 or an integer count of points."
            )
        return math.ceil(round(float(size) * n, 9))
    if size < 0:
        raise ConfigError(f"{name} must be >= 0, got {name}={int(size)}. Use a count >= 0.")
    return int(size)


@dataclass(frozen=True)
class Split:
    """Contiguous chronological ranges ``train | val | test``; ``val`` may be empty."""

    train: slice
    val: slice
    test: slice

    @property
    def n_train(self) -> int:
        """Number of training points."""
        return self.train.stop - self.train.start

    @property
    def n_val(self) -> int:
        """Number of validation points (0 when there is no validation block)."""
        return self.val.stop - self.val.start

    @property
    def n_test(self) -> int:
        """Number of test points."""
        return self.test.stop - self.test.start


def chronological_split(
    n: int, *, test_size: int | float, val_size: int | float = 0, min_train: int = 1,
    min_test: int = 1,
) -> Split:
    """Split ``range(n)`` into train, validation and test blocks, in time order.

    The last ``test_size`` points are test (``min_test=0`` allows none, e.g. to fit a final
    model on everything), the ``val_size`` points before them validation and
    everything earlier training.  Sizes may be counts or fractions of ``n`` (see
    :func:`resolve_size`).

    Raises
    ------
    SplitError
        If fewer than ``min_train`` points would remain for training.
    """
    n = _check_int(n, "n", minimum=0)
    min_train = _check_int(min_train, "min_train", minimum=1)
    n_test = resolve_size(test_size, n, "test_size")
    n_val = resolve_size(val_size, n, "val_size")
    if n_test < min_test:
        raise ConfigError(f"test_size must be >= {min_test}, got test_size={n_test}. Use "
                          f"test_size >= {min_test}.")
    need = n_val + n_test + min_train
    if n < need:
        raise SplitError(
            f"Series of {n} points is too short for val_size={n_val} + test_size={n_test} "
            f"with at least {min_train} training points: need at least {need} points. "
            "Use smaller windows or more data."
        )
    train_stop = n - n_test - n_val
    return Split(
        train=slice(0, train_stop),
        val=slice(train_stop, n - n_test),
        test=slice(n - n_test, n),
    )


@dataclass(frozen=True, kw_only=True)
class WalkForward:
    """Walk-forward (rolling-origin) evaluation windows, oldest first.

    The last window's test block ends at the last point.  Window ``w`` (0-based) tests
    ``horizon`` points starting at ``n - horizon - (n_windows - 1 - w) * step``; its training
    block ends ``gap`` points before that.
    """

    horizon: int = 1
    """Length of each test block (forecast horizon ``h``)."""
    n_windows: int = 1
    """Number of windows (folds)."""
    step: int | None = None
    """Distance between consecutive test starts; ``None`` means ``horizon`` (no overlap)."""
    gap: int = 0
    """Points left out between the end of training and the start of the test block."""
    expanding: bool = True
    """True: train on all earlier points.  False: slide a window as long as the first fold's."""
    max_train_size: int | None = None
    """If set, keep only the last ``max_train_size`` training points of each window."""
    min_train_size: int = 1
    """Fewest training points the first (shortest) window may have."""

    def __post_init__(self) -> None:
        _check_int(self.horizon, "horizon", minimum=1)
        _check_int(self.n_windows, "n_windows", minimum=1)
        if self.step is not None:
            _check_int(self.step, "step", minimum=1)
        _check_int(self.gap, "gap", minimum=0)
        if not isinstance(self.expanding, bool | np.bool_):
            raise ConfigError(
                f"expanding must be True or False, got {self.expanding!r}. "
                "Use expanding=True (growing window) or expanding=False (sliding window)."
            )
        _check_int(self.min_train_size, "min_train_size", minimum=1)
        if self.max_train_size is not None:
            _check_int(self.max_train_size, "max_train_size", minimum=1)
            if self.max_train_size < self.min_train_size:
                raise ConfigError(
                    f"max_train_size must be >= min_train_size, got "
                    f"max_train_size={self.max_train_size} and "
                    f"min_train_size={self.min_train_size}. Raise max_train_size or lower "
                    "min_train_size."
                )

    @property
    def n_splits(self) -> int:
        """Number of windows produced by :meth:`split`."""
        return self.n_windows

    @property
    def step_size(self) -> int:
        """The effective step (``step``, or ``horizon`` when ``step`` is None)."""
        return self.horizon if self.step is None else self.step

    def _test_starts(self, n: int) -> np.ndarray:
        n = _check_int(n, "n", minimum=1)
        step = self.step_size
        first_train = n - self.horizon - (self.n_windows - 1) * step - self.gap
        if first_train < self.min_train_size:
            need = self.min_train_size + self.gap + self.horizon + (self.n_windows - 1) * step
            max_windows = (n - self.horizon - self.gap - self.min_train_size) // step + 1
            fix = (
                f"Use n_windows <= {max_windows} or a smaller horizon/step."
                if max_windows >= 1
                else "Use a smaller horizon or gap, or more data."
            )
            raise SplitError(
                f"Too many windows: n_windows={self.n_windows} with horizon={self.horizon}, "
                f"step={step} and gap={self.gap} need at least {need} points for "
                f"min_train_size={self.min_train_size}, but the series has n={n}. {fix}"
            )
        return n - self.horizon - np.arange(self.n_windows - 1, -1, -1) * step

    def cutoffs(self, n: int) -> np.ndarray:
        """Index of the last training point of each window, oldest first."""
        return self._test_starts(n) - self.gap - 1

    def split(self, n: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_idx, test_idx)`` integer arrays for a series of length ``n``.

        Raises
        ------
        SplitError
            If the first window would have fewer than ``min_train_size`` training points.
        """
        starts = self._test_starts(n)
        first_len = int(starts[0]) - self.gap
        for test_start in starts:
            train_stop = int(test_start) - self.gap
            train_start = 0 if self.expanding else train_stop - first_len
            if self.max_train_size is not None:
                train_start = max(train_start, train_stop - self.max_train_size)
            yield (
                np.arange(train_start, train_stop),
                np.arange(test_start, test_start + self.horizon),
            )
