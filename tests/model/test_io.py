import json

import numpy as np
import pytest

from lstmtune.model import ModelError, load_model, save_model


@pytest.fixture()
def saved(stateless, tmp_path):
    ens, _ = stateless
    return ens, save_model(ens, tmp_path / "model")


def test_round_trip_gives_the_same_forecasts(saved, shampoo):
    ens, path = saved
    assert sorted(p.name for p in path.iterdir()) == ["checksums.json", "model.json",
                                                       "params.npz"]
    back = load_model(path)
    assert back.config == ens.config and back.spec == ens.spec
    np.testing.assert_array_equal(back.seeds, ens.seeds)
    np.testing.assert_array_equal(back.member_forecasts(shampoo, 3),
                                  ens.member_forecasts(shampoo, 3))


def test_the_model_folder_gets_the_usual_permissions(saved):
    import os
    import stat

    _, path = saved
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o777 & ~umask


def test_saved_files_hold_no_pickle(saved):
    _, path = saved
    with np.load(path / "params.npz", allow_pickle=False) as z:  # raises on object arrays
        assert sorted(z.files) == ["Wd", "bd", "layers.0.U", "layers.0.W", "layers.0.b"]
        assert z["layers.0.W"].shape == (3, 1, 8)
    doc = json.loads((path / "model.json").read_text())
    assert doc["format"] == "lstmtune-model" and doc["prep"]["chain"]["type"] == "Chain"


def test_a_changed_weight_file_is_refused(saved):
    _, path = saved
    raw = bytearray((path / "params.npz").read_bytes())
    raw[-200] ^= 1  # one bit inside the last array
    (path / "params.npz").write_bytes(bytes(raw))
    with pytest.raises(ModelError, match="failed its integrity check: params.npz has SHA-256"):
        load_model(path)


def test_a_changed_description_is_refused(saved):
    _, path = saved
    doc = json.loads((path / "model.json").read_text())
    doc["config"]["units"] = 3
    (path / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="integrity check: model.json"):
        load_model(path)


def _rewrite(path, doc):
    """Change model.json and its checksum consistently: a mismatched, not a tampered, model."""
    from lstmtune.model._io import _sha256

    (path / "model.json").write_text(json.dumps(doc))
    sums = json.loads((path / "checksums.json").read_text())
    sums["sha256"]["model.json"] = _sha256(path / "model.json")
    (path / "checksums.json").write_text(json.dumps(sums))


def test_a_description_that_does_not_match_the_weights_is_refused(saved):
    _, path = saved
    doc = json.loads((path / "model.json").read_text())
    doc["config"]["units"] = 3
    doc["spec"]["units"] = [3]
    _rewrite(path, doc)
    with pytest.raises(ModelError, match=r"'params' shapes do not match its model"):
        load_model(path)
    doc["params"] = {"layers.0.W": [3, 1, 12], "layers.0.U": [3, 3, 12], "layers.0.b": [3, 12],
                     "Wd": [3, 3, 1], "bd": [3, 1]}  # consistent, but not the weights
    _rewrite(path, doc)
    with pytest.raises(ModelError, match=r"weight layers.0.W has shape \(3, 1, 8\), the model .* "
                                         r"needs \(3, 1, 12\)"):
        load_model(path)


def test_a_spec_that_contradicts_its_configuration_is_refused(saved):
    _, path = saved
    doc = json.loads((path / "model.json").read_text())
    doc["spec"]["stateful"] = True
    _rewrite(path, doc)
    with pytest.raises(ModelError, match="does not match its configuration"):
        load_model(path)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format_version=99), "format version 99; this lstmtune reads version 1"),
    (lambda d: d.update(format="other"), "is not an lstmtune model"),
    (lambda d: d["config"].update(unitz=3), r"unknown hyperparameters \['unitz'\]"),
    (lambda d: d["config"].update(units=0), "units=0 is out of range"),
    (lambda d: d.pop("prep"), "lacks 'prep'"),
])
def test_malformed_descriptions_are_refused(saved, change, message):
    _, path = saved
    doc = json.loads((path / "model.json").read_text())
    change(doc)
    _rewrite(path, doc)
    with pytest.raises(ModelError, match=message):
        load_model(path)


def test_missing_files_and_folders(saved, tmp_path):
    _, path = saved
    with pytest.raises(ModelError, match="does not exist"):
        load_model(tmp_path / "nowhere")
    (path / "checksums.json").unlink()
    with pytest.raises(ModelError, match="lacks checksums.json"):
        load_model(path)


def test_a_failed_save_keeps_the_previous_model_and_leaves_no_debris(saved, monkeypatch):
    ens, path = saved
    before = (path / "params.npz").read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        save_model(ens, path)
    assert (path / "params.npz").read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["model"]
    load_model(path)
