"""Population engine vs a per-member Python training loop, on seed 000's shape.

Target: one ``run_chunk`` over P=30 members (steady state, compile excluded and reported
separately) against the reference "the same model trained one member at a time with a Python
loop over optimizer steps": a jitted single train step (one batch: forward + grad + optax adam
update, stateful LSTM state carried between batches) called from Python for every batch of every
epoch of every member.  The loop runs fewer epochs and is scaled per model-epoch.

Reported: model-epochs/s of each and ``speedup`` = population / loop (target >= 100).  As a
correctness check the loop's weights after ``loop_epochs`` epochs are compared with the
population's after the same number of epochs (``max_abs_param_diff``: float rounding only).
"""

from __future__ import annotations

import math
import time

import numpy as np
from _common import block, emit, environment, log, parser, population, rnd, seed000, time_chunk


def make_loop_step(spec, batch_size: int, lr: float):
    """One jitted optimizer step of one member (the per-member reference)."""
    import jax
    import jax.numpy as jnp
    import optax

    from lstmtune.engine._lstm import forward

    opt = optax.adam(lr, b1=0.9, b2=0.999, eps=1e-7)

    def loss_fn(params, xb, yb, states):
        out, new_states = jax.vmap(lambda x, s: forward(params, x, s, spec))(xb, states)
        return jnp.mean((out - yb) ** 2), new_states

    @jax.jit
    def step(params, opt_state, states, xb, yb):
        (loss, new_states), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, xb, yb, states)
        updates, opt_state = opt.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return params, opt_state, jax.lax.stop_gradient(new_states), loss

    zeros = [(jnp.zeros((batch_size, u)), jnp.zeros((batch_size, u))) for u in spec.units]

    def zero_states():  # immutable, so one set of zero arrays serves every epoch
        return zeros

    return step, opt.init, zero_states


def member_params(params, i: int, spec):
    """Member i's weights as the parameter pytree ``forward`` takes, whether the engine keeps
    them as a pytree with a leading P axis or as one flat (P, n) vector per member."""
    import jax

    if hasattr(params, "ndim"):  # flat weights: lstmtune.engine._train.unravel maps them back
        from lstmtune.engine._train import unravel

        return unravel(spec)(params[i])
    return jax.tree.map(lambda a: a[i], params)


def train_loop(step, opt_init, zero_states, init_params_list, batches, n_epochs: int):
    """Train every member alone: Python loops over members, epochs and batches."""
    finals = []
    for params in init_params_list:
        opt_state = opt_init(params)
        for _ in range(n_epochs):
            states = zero_states()  # Keras stateful: reset_states() after every epoch
            for xb, yb in batches:
                params, opt_state, states, _loss = step(params, opt_state, states, xb, yb)
        finals.append(params)
    return block(finals)


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()

    P = 30
    pop_epochs = 100 if args.quick else 500
    loop_epochs = 4 if args.quick else 20
    repeats = 2 if args.quick else 5
    loop_repeats = 1 if args.quick else 3

    data, spec, tspec = seed000(epochs=pop_epochs)
    state, hp = population(spec, tspec, P)

    log(f"population: P={P}, {pop_epochs} epochs per run_chunk, best of {repeats}")
    pop = time_chunk(state, hp, data, spec, tspec, pop_epochs, repeats)
    pop_rate = P * pop_epochs / pop["steady_s"]
    log(f"  compile+first {pop['first_call_s']:.2f}s, steady {pop['steady_s']*1e3:.1f} ms "
        f"-> {pop_rate:,.0f} model-epochs/s")

    # the reference: same members (same initial weights), one at a time, Python loop
    S, B = data.X.shape[0], tspec.batch_size
    assert S % B == 0, "the reference loop assumes full batches (seed 000: 20 samples, batch 4)"
    batches = [(data.X[i:i + B], data.y[i:i + B]) for i in range(0, S, B)]
    batches = block(batches)
    step, opt_init, zero_states = make_loop_step(spec, B, lr=float(hp["learning_rate"][0]))
    inits = [member_params(state.params, i, spec) for i in range(P)]
    t = time.perf_counter()
    train_loop(step, opt_init, zero_states, inits[:1], batches, 1)  # compile
    loop_compile = time.perf_counter() - t

    log(f"loop: {P} members x {loop_epochs} epochs x {len(batches)} steps, best of "
        f"{loop_repeats}")
    finals = None
    loop_times = []
    for _ in range(loop_repeats):
        t = time.perf_counter()
        finals = train_loop(step, opt_init, zero_states, inits, batches, loop_epochs)
        loop_times.append(time.perf_counter() - t)
    loop_s = min(loop_times)
    loop_rate = P * loop_epochs / loop_s
    n_steps = P * loop_epochs * len(batches)
    log(f"  {loop_s:.2f}s -> {loop_rate:,.0f} model-epochs/s "
        f"({loop_s / n_steps * 1e6:.1f} us per optimizer step)")

    # correctness: the population after loop_epochs epochs == the loop's members
    from lstmtune.engine._train import run_chunk

    ref_state, _ = block(run_chunk(state, hp, data, spec, tspec, loop_epochs))
    from jax.flatten_util import ravel_pytree

    max_diff = max(
        float(np.max(np.abs(np.asarray(ravel_pytree(member_params(ref_state.params, i, spec))[0])
                            - np.asarray(ravel_pytree(f)[0]))))
        for i, f in enumerate(finals))
    speedup = pop_rate / loop_rate
    log(f"speedup {speedup:,.0f}x (target >= 100); max |param diff| {max_diff:.2e}")

    emit({
        "benchmark": "population_vs_loop",
        "quick": args.quick,
        "shape": "seed000: units=1 stateful hard_sigmoid, S=20 T=1 F=1 H=1, batch 4, adam",
        "P": P,
        "population": {"epochs_per_call": pop_epochs, "repeats": repeats,
                       "steady_s": rnd(pop["steady_s"]),
                       "compile_plus_first_chunk_s": rnd(pop["first_call_s"]),
                       "compile_s_est": rnd(pop["compile_s_est"]),
                       "model_epochs_per_s": round(pop_rate)},
        "loop": {"epochs": loop_epochs, "members": P, "repeats": loop_repeats,
                 "steps_per_epoch": len(batches), "seconds": rnd(loop_s),
                 "compile_s": rnd(loop_compile),
                 "us_per_step": rnd(loop_s / n_steps * 1e6),
                 "model_epochs_per_s": round(loop_rate)},
        "speedup": rnd(speedup, 3),
        "target_speedup": 100,
        "meets_target": bool(speedup >= 100),
        "max_abs_param_diff_vs_population": float(f"{max_diff:.3g}"),
        "equivalent": bool(math.isfinite(max_diff) and max_diff < 1e-4),
        "env": environment(),
    })


if __name__ == "__main__":
    main()
