"""Engine layer: a pure-function LSTM in JAX and population training.

Knows jax, optax and numpy only: no pandas, Optuna or CLI.  Importing it asks JAX for one CPU
device per core (see ``_devices``) so populations can use every core.
"""

from lstmtune.engine._devices import configure_cpu_devices  # first: before JAX starts
from lstmtune.engine._lstm import (
    ACTIVATIONS,
    ModelSpec,
    flatten_params,
    forward,
    init_params,
    n_params,
    nest_params,
    param_shapes,
)
from lstmtune.engine._population import (
    ChunkView,
    PopulationResult,
    chunk_length,
    enable_compilation_cache,
    estimate_bytes,
    release_programs,
    train_population,
)
from lstmtune.engine._train import (
    HPARAM_DEFAULTS,
    LOSSES,
    OPTIMIZERS,
    PopulationData,
    TrainSpec,
    predict,
)

__all__ = ["ACTIVATIONS", "ModelSpec", "forward", "init_params", "ChunkView", "PopulationResult",
           "chunk_length", "enable_compilation_cache", "release_programs", "train_population",
           "HPARAM_DEFAULTS",
           "LOSSES", "OPTIMIZERS", "PopulationData", "TrainSpec", "predict",
           "configure_cpu_devices", "n_params", "estimate_bytes", "param_shapes",
           "flatten_params", "nest_params"]
