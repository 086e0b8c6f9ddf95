"""Compile time of the first ``train_population`` call: cold vs warm persistent cache.

For seed 000's shape and the heavy shape, a FRESH Python subprocess times its first
``train_population`` call with an empty persistent compilation cache (``LSTMTUNE_CACHE_DIR`` set
to a new temporary folder; ``train_population`` calls ``enable_compilation_cache()``, which reads
it), then a second fresh subprocess does the same with the now warm folder.  Each subprocess
also times a second, identical call (everything already compiled in memory): first - second is
the compile overhead.  The reference is the cold run; reported: cold and warm seconds and
``speedup`` = cold overhead / warm overhead.  Best of ``repeats`` (a new empty folder per cold
repeat).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import emit, environment, log, parser, rnd

HERE = Path(__file__).resolve().parent

# The subprocess: build the shape, then time two identical train_population calls.
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {here!r})
import numpy as np
from _common import heavy, seed000
from lstmtune.engine import train_population
shape, P, epochs = {shape!r}, {P}, {epochs}
data, spec, tspec = (seed000 if shape == "seed000" else heavy)(epochs=epochs, as_jax=False)
t_import = time.perf_counter() - t0
out = {{"import_s": t_import}}
for name in ("first", "second"):
    t = time.perf_counter()
    res = train_population(spec, tspec, data, seeds=np.arange(P))
    out[name + "_call_s"] = time.perf_counter() - t
    out[name + "_compile_seconds"] = res.compile_seconds
    assert np.isfinite(res.train_loss[:, -1]).all()
print(json.dumps(out))
"""


def child(shape: str, P: int, epochs: int, cache_dir: str) -> dict:
    env = dict(os.environ, LSTMTUNE_CACHE_DIR=cache_dir)
    code = CHILD.format(here=str(HERE), shape=shape, P=P, epochs=epochs)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        log(proc.stderr)
        raise SystemExit(f"subprocess for {shape} failed with exit code {proc.returncode}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = wall
    out["overhead_s"] = out["first_call_s"] - out["second_call_s"]
    return out


def measure(shape: str, P: int, epochs: int, repeats: int) -> dict:
    colds, warms, n_files = [], [], 0
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="lstmtune-cache-") as d:
            colds.append(child(shape, P, epochs, d))
            n_files = sum(1 for _ in Path(d).rglob("*") if _.is_file())
            warms.append(child(shape, P, epochs, d))
        log(f"  {shape}: cold first call {colds[-1]['first_call_s']:.2f}s, "
            f"warm first call {warms[-1]['first_call_s']:.2f}s "
            f"(second call {warms[-1]['second_call_s']:.3f}s, {n_files} cache files)")
    cold = min(colds, key=lambda r: r["first_call_s"])
    warm = min(warms, key=lambda r: r["first_call_s"])
    keys = ("first_call_s", "second_call_s", "overhead_s", "first_compile_seconds", "import_s")
    return {
        "P": P, "epochs": epochs, "cache_files": n_files,
        "cold": {k: rnd(cold[k]) for k in keys},
        "warm": {k: rnd(warm[k]) for k in keys},
        "speedup": rnd(cold["overhead_s"] / max(warm["overhead_s"], 1e-9), 3),
        "first_call_ratio": rnd(cold["first_call_s"] / warm["first_call_s"], 3),
    }


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    repeats = 1 if args.quick else 2
    # one chunk each (chunk = epochs), so the first call compiles exactly one training program
    cases = {"seed000": (30, 250), "heavy": (30, 1)}
    results = {}
    for shape, (P, epochs) in cases.items():
        log(f"{shape}: P={P}, epochs={epochs}, best of {repeats}")
        results[shape] = measure(shape, P, epochs, repeats)
    emit({
        "benchmark": "compile_time",
        "quick": args.quick,
        "what": "first train_population call in a fresh process: empty (cold) vs warm "
                "persistent cache; overhead = first call - identical second call",
        "reference": "cold",
        "repeats": repeats,
        "results": results,
        "env": environment(),
    })


if __name__ == "__main__":
    main()
