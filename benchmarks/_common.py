"""Shared helpers for the benchmark scripts (not a benchmark itself).

Every script prints exactly one JSON object on stdout; progress goes to stderr through ``log``.
Timings are the minimum over repeats (best-of-N): the machines these run on are shared, and the
minimum is the estimate least disturbed by other work.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable

import numpy as np


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


def parser(description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true",
                    help="a much smaller run (smoke test: checks the script works, not speed)")
    return ap


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    """Run ``fn`` ``repeats`` times (it must block until its work is done); (min, all) seconds."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), times


def block(x):
    import jax

    return jax.block_until_ready(x)


def environment() -> dict:
    import jax

    dev = jax.devices()[0]
    return {"platform": dev.platform, "device_kind": getattr(dev, "device_kind", str(dev)),
            "n_devices": jax.device_count(), "jax": jax.__version__,
            "python": platform.python_version(), "cpu_count": os.cpu_count()}


def emit(result: dict) -> None:
    print(json.dumps(result, default=_jsonable, sort_keys=False))


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x)}")


def rnd(x: float, digits: int = 4) -> float:
    """Round to ``digits`` significant digits (keeps the JSON readable)."""
    return float(f"{x:.{digits}g}")


def seed000(epochs: int, as_jax: bool = True):
    """Seed 000's shape: Shampoo, differenced, scaled on windows; 20 training windows
    (T=1, F=1, H=1), a 1-unit stateful LSTM with hard_sigmoid gates, batch 4, no shuffle.

    Returns (data, spec, tspec).
    """
    from lstmtune.data import Preprocessing, load, prepare
    from lstmtune.engine import ModelSpec, PopulationData, TrainSpec

    p = prepare(load("shampoo"), test_size=12,
                preprocessing=Preprocessing(difference=1, scale_on="windows"))
    tr = p.train.take(slice(2, None))  # 20 samples
    evX = np.concatenate([tr.X, p.test.X])
    evy = np.full((len(evX), 1), np.nan)
    arrays = (tr.X, tr.y, np.ones(len(tr), bool), evX, evy)
    data = PopulationData(*(_cast(a, as_jax) for a in arrays))
    spec = ModelSpec(units=(1,), stateful=True, recurrent_activation="hard_sigmoid")
    tspec = TrainSpec(epochs=epochs, batch_size=4, shuffle=False)
    return data, spec, tspec


def heavy(epochs: int, n_samples: int = 500, as_jax: bool = True):
    """The heavy shape: 64 units, 12 time steps, 1 feature, batch 32, ``n_samples`` random
    windows, stateless, reshuffled every epoch.  Returns (data, spec, tspec)."""
    from lstmtune.engine import ModelSpec, PopulationData, TrainSpec

    rng = np.random.default_rng(0)
    T, F, H = 12, 1, 1
    X = rng.standard_normal((n_samples, T, F))
    y = rng.standard_normal((n_samples, H))
    evX = rng.standard_normal((64, T, F))
    evy = np.full((64, H), np.nan)
    arrays = (X, y, np.ones(n_samples, bool), evX, evy)
    data = PopulationData(*(_cast(a, as_jax) for a in arrays))
    spec = ModelSpec(units=(64,), timesteps=T, n_features=F, horizon=H)
    tspec = TrainSpec(epochs=epochs, batch_size=32, shuffle=True)
    return data, spec, tspec


def _cast(a: np.ndarray, as_jax: bool):
    a = np.asarray(a, bool if a.dtype == bool else np.float32)
    if not as_jax:
        return a
    import jax.numpy as jnp

    return jnp.asarray(a)


def population(spec, tspec, P: int, seed0: int = 0):
    """(initial state, hparams) of P default members (seeds seed0 .. seed0+P-1)."""
    from lstmtune.engine._population import _hparams
    from lstmtune.engine._train import init_members

    hp = _hparams(None, P)
    state = init_members(spec, tspec, np.arange(seed0, seed0 + P), hp)
    return block(state), hp


def time_chunk(state, hp, data, spec, tspec, n_epochs: int, repeats: int) -> dict:
    """First call (compile + one chunk) and best-of-``repeats`` steady-state seconds of one
    ``run_chunk`` of ``n_epochs`` epochs over every member of ``state``."""
    from lstmtune.engine._train import run_chunk

    t = time.perf_counter()
    block(run_chunk(state, hp, data, spec, tspec, n_epochs))
    first = time.perf_counter() - t
    steady, times = best_of(lambda: block(run_chunk(state, hp, data, spec, tspec, n_epochs)),
                            repeats)
    return {"first_call_s": first, "steady_s": steady, "all_s": times,
            "compile_s_est": max(first - steady, 0.0)}
