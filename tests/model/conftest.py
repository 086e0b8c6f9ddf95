"""Two small ensembles on Shampoo, trained once per session: stateless and stateful."""

import pytest

from lstmtune.data import load
from lstmtune.model import fit_ensemble

STATELESS = {"units": 2, "epochs": 40, "timesteps": 1, "batch_size": 4}
STATEFUL = {"units": 2, "epochs": 40, "timesteps": 2, "stateful": True, "shuffle": False,
            "batch_size": 4}


@pytest.fixture(scope="session")
def shampoo():
    return load("shampoo")


@pytest.fixture(scope="session")
def stateless(shampoo):
    return fit_ensemble(shampoo, STATELESS, repeats=3, seed=0, holdout=12)


@pytest.fixture(scope="session")
def stateful(shampoo):
    return fit_ensemble(shampoo, STATEFUL, repeats=3, seed=0, holdout=12)
