from __future__ import annotations

import pytest

from lstmtune.errors import ConfigError
from lstmtune.experiment import ExperimentSpec, parse_assignment
from lstmtune.experiment._params import group_key


def test_parse_assignments_and_aliases():
    assert parse_assignment("epochs=500,1000", many=True) == ("epochs", (500, 1000))
    assert parse_assignment("neurons=1,2", many=True) == ("units", (1, 2))
    assert parse_assignment("stateful=true", many=False) == ("stateful", (True,))
    assert parse_assignment("lr=0.01", many=False) == ("learning_rate", (0.01,))


@pytest.mark.parametrize("text,fragments", [
    ("unitz=1,2", ["unknown hyperparameter 'unitz'", "did you mean 'units'", "valid names"]),
    ("units=a,2", ["bad value 'a' for units"]),
    ("units=1.5", ["bad value '1.5' for units", "whole number"]),
    ("dropout=1.2", ["dropout=1.2 is out of range", "<= 0.95"]),
    ("optimizer=adamw", ["expected one of adam, rmsprop, sgd"]),
    ("epochs", ["not NAME=VALUES"]),
    ("units=1,1", ["lists a value twice"]),
])
def test_bad_assignments_name_the_rule(text, fragments):
    with pytest.raises(ConfigError) as exc:
        parse_assignment(text, many=True)
    msg = str(exc.value)
    assert "\n" not in msg
    for f in fragments:
        assert f in msg


def test_factorial_and_grouping():
    spec = ExperimentSpec(vary=(("units", (1, 2)), ("learning_rate", (1e-3, 1e-2)),
                                ("epochs", (10, 20))), repeats=2)
    configs = spec.configs()
    assert len(configs) == 8
    # learning rate and epochs are member data / snapshots, and units 1 and 2 share the
    # 8-unit program: one population
    assert len({group_key(c) for c in configs}) == 1
    widths = [{"units": u, **{k: v for k, v in configs[0].items() if k != "units"}}
              for u in (1, 8, 9, 16, 17, 32, 33)]
    assert [dict(group_key(c))["units"] for c in widths] == [8, 8, 16, 16, 32, 32, 33]
    assert spec.label(configs[0]) == "units=1, learning_rate=0.001, epochs=10"


def test_spec_validation():
    with pytest.raises(ConfigError, match="both varied and set"):
        ExperimentSpec(vary=(("units", (1, 2)),), fixed=(("units", 3),))
    with pytest.raises(ConfigError, match="--repeats"):
        ExperimentSpec(repeats=0)
