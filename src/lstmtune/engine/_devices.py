"""One JAX device per CPU core, so populations can be split across cores.

XLA's CPU backend runs a program's operations mostly on one core; members of a population are
independent, so lstmtune splits them over one device per core (`run_chunk`).  This must be
configured before JAX starts its backend, hence at import of :mod:`lstmtune.engine`.
Set ``LSTMTUNE_CPU_DEVICES=1`` to opt out (or to any count); an ``XLA_FLAGS`` that already
forces a host device count is respected.
"""

from __future__ import annotations

import os

import jax

__all__ = ["configure_cpu_devices"]


def configure_cpu_devices() -> int | None:
    """Ask for one CPU device per core unless configured otherwise; returns the count asked
    for, or None when left alone (already set, or JAX already started)."""
    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return None
    wanted = os.environ.get("LSTMTUNE_CPU_DEVICES")
    n = int(wanted) if wanted and wanted.isdigit() else (os.cpu_count() or 1)
    try:
        jax.config.update("jax_num_cpu_devices", max(1, n))
    except (RuntimeError, AttributeError):  # backend already initialised: keep what it has
        return None
    return n


configure_cpu_devices()
