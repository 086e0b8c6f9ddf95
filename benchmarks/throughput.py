"""Steady-state throughput of ``run_chunk`` on seed 000's shape at P = 1, 30, 300, 3000.

Model-epochs/s = P x epochs per chunk / seconds, best of 3, after a warm-up call (compile
reported separately).  Targets: >= 300k model-epochs/s at P=30 and >= 1M at P=3000.  The
reference measured in the same run is P=1: every row reports its ratio to P=1.  Runs unchanged
on CPU or GPU (the JSON records the platform).
"""

from __future__ import annotations

from _common import emit, environment, log, parser, population, rnd, seed000, time_chunk

TARGETS = {30: 300_000, 3000: 1_000_000}


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    sizes = (1, 30, 300, 3000)
    repeats = 2 if args.quick else 3
    base_epochs = 50 if args.quick else 250

    rows = {}
    for P in sizes:
        epochs = base_epochs  # P=3000 at 250 epochs: about 1 s per call on 2 CPU cores
        data, spec, tspec = seed000(epochs=epochs)
        state, hp = population(spec, tspec, P)
        r = time_chunk(state, hp, data, spec, tspec, epochs, repeats)
        rate = P * epochs / r["steady_s"]
        rows[P] = {"P": P, "epochs_per_call": epochs, "steady_s": rnd(r["steady_s"]),
                   "all_s": [rnd(t) for t in r["all_s"]],
                   "compile_plus_first_chunk_s": rnd(r["first_call_s"]),
                   "model_epochs_per_s": round(rate)}
        log(f"P={P:5d}: {r['steady_s']*1e3:9.2f} ms per {epochs} epochs -> "
            f"{rate:>12,.0f} model-epochs/s (compile+first {r['first_call_s']:.2f}s)")

    ref = rows[1]["model_epochs_per_s"]
    for P, row in rows.items():
        row["ratio_vs_P1"] = rnd(row["model_epochs_per_s"] / ref, 3)
        if P in TARGETS:
            row["target_model_epochs_per_s"] = TARGETS[P]
            row["meets_target"] = bool(row["model_epochs_per_s"] >= TARGETS[P])

    emit({
        "benchmark": "throughput",
        "quick": args.quick,
        "shape": "seed000: units=1 stateful hard_sigmoid, S=20 T=1 F=1 H=1, batch 4, adam",
        "repeats": repeats,
        "reference": "P=1",
        "results": [rows[P] for P in sizes],
        "meets_targets": all(rows[P]["meets_target"] for P in TARGETS),
        "env": environment(),
    })


if __name__ == "__main__":
    main()
