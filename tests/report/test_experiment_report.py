"""Experiment files and the experiment page rebuilt from them, from a small fake result
(no training)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmtune.errors import ConfigError
from lstmtune.experiment import ExperimentResult, ExperimentSpec, summarize
from lstmtune.report._experiment import write_experiment
from lstmtune.report._experiment_page import experiment_report, render_experiment
from tests._browser import artifacts_dir, browser_fixture  # noqa: F401 (fixture "browser")
from tests.report._fixtures import pngs, section_html

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BASELINE = {"persistence": {"rmse": 83.466, "mae": 72.783},
            "mean": {"rmse": 87.675, "mae": 67.527}}


def fake_result(name: str = "units", values: tuple = (1, 2, 4), repeats: int = 3,
                epochs: int = 20, every: int = 2, seed: int = 0,
                histories: bool = True) -> ExperimentResult:
    """Scores ~ N(80 + 5 i, 4) per configuration i, one failed repeat in the last one; curves
    of ``epochs // every`` recorded epochs per repeat."""
    rng = np.random.default_rng(seed)
    spec = ExperimentSpec(vary=((name, values),), repeats=repeats)
    configs = [{name: v} for v in values]
    labels = [str(v) for v in values]
    rows, hist = [], {}
    for i, lab in enumerate(labels):
        s = 80 + 5 * i + rng.normal(0, 4, repeats)
        if i == len(labels) - 1:
            s[0] = np.nan
        rows += [{"config": i, "label": lab, f"param_{name}": values[i], "repeat": r,
                  "seed": r, "status": "failed" if np.isnan(s[r]) else "complete",
                  "epochs_trained": epochs, "score": float(s[r])} for r in range(repeats)]
        e = np.arange(1, epochs // every + 1) * every
        hist[lab] = {"train": 100 - e[None] * 0.5 - rng.uniform(0, 5, (repeats, 1)),
                     "eval": 110 - e[None] * 0.3 - rng.uniform(0, 5, (repeats, 1)),
                     "epochs": e}
    return ExperimentResult(spec=spec, configs=configs, labels=labels,
                            scores=pd.DataFrame(rows), baseline=BASELINE, window="validation",
                            histories=hist if histories else {})


def write(folder: Path, result: ExperimentResult, prefix: str = "") -> list[dict]:
    summary = summarize(result)
    write_experiment(result, summary, folder, prefix=prefix)
    return summary


def test_history_csv_holds_every_curve(tmp_path):
    r = fake_result()
    write(tmp_path, r)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "boxplot.png", "diagnostic_1.png", "diagnostic_2.png", "diagnostic_4.png",
        "history.csv", "scores.csv", "summary.json"]
    h = pd.read_csv(tmp_path / "history.csv", dtype={"label": str})
    assert list(h.columns) == ["label", "repeat", "epoch", "train_rmse", "eval_rmse"]
    assert len(h) == 3 * 3 * 10
    for lab, curves in r.histories.items():
        g = h[h["label"] == lab]
        assert sorted(set(g["repeat"])) == [0, 1, 2]
        for rep in range(3):
            one = g[g["repeat"] == rep]
            np.testing.assert_array_equal(one["epoch"], curves["epochs"])
            np.testing.assert_allclose(one["train_rmse"], curves["train"][rep], rtol=1e-6)
            np.testing.assert_allclose(one["eval_rmse"], curves["eval"][rep], rtol=1e-6)
    assert all((tmp_path / n).read_bytes().startswith(PNG_MAGIC)
               for n in ("boxplot.png", "diagnostic_4.png"))


def test_no_curves_no_history_csv(tmp_path):
    write(tmp_path, fake_result(histories=False))
    assert not (tmp_path / "history.csv").exists()
    page = render_experiment(tmp_path)
    assert "history.csv is missing" in section_html(page, "curves")
    assert len(pngs(page)) == 1


def test_page_from_files_alone(tmp_path):
    summary = write(tmp_path, fake_result())
    path = experiment_report(tmp_path)
    assert path == tmp_path / "report.html"
    page = path.read_text(encoding="utf-8")
    assert re.findall(r'<section id="([^"]+)">', page) == ["summary", "repeats", "curves"]
    images = pngs(page)
    assert page.count("<img") == len(images) == 2
    assert all(p.startswith(PNG_MAGIC) for p in images)
    s = section_html(page, "summary")
    assert "83.466" in s and "87.675" in s  # persistence and the other baseline
    for e in summary:
        assert f"{e['mean']:.3f}" in s and f"{e['75%']:.3f}" in s
        if e["vs_best"] is not None:
            vb = e["vs_best"]
            assert f"[{vb['ci_low']:.3f}, {vb['ci_high']:.3f}]" in s
            assert f"{vb['p_mannwhitney']:.4f}" in s
    best = next(e for e in summary if e["best"])
    assert f"{best['label']} (best)" in s
    assert not re.search(r"https?://", page)


def test_describe_row_matches_the_scores(tmp_path):
    r = fake_result()
    write(tmp_path, r)
    s = section_html(render_experiment(tmp_path), "summary")
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", s.split("<tbody>")[1], re.S)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", rows[2])  # label "4": one repeat failed
    v = r.values("4")
    assert cells[0].startswith("4")
    assert cells[1:4] == ["2", f"{v.mean():.3f}", f"{v.std(ddof=1):.3f}"]
    assert cells[-1] == "1"


def test_several_studies_get_prefixed_sections(tmp_path):
    write(tmp_path, fake_result("epochs", (10, 20)), prefix="epochs_")
    write(tmp_path, fake_result("units", (1, 2), seed=1), prefix="units_")
    out = experiment_report(tmp_path, tmp_path / "sub" / "page.html")
    page = out.read_text(encoding="utf-8")
    assert re.findall(r'<section id="([^"]+)">', page) == [
        "epochs-summary", "epochs-repeats", "epochs-curves",
        "units-summary", "units-repeats", "units-curves"]
    assert len(pngs(page)) == 4
    for sid in ("epochs-curves", "units-curves", "epochs-repeats", "units-repeats"):
        assert section_html(page, sid).count("<img") == 1
    assert "Varied: epochs." in page and "Varied: units." in page
    assert not (tmp_path / "report.html").exists()


def test_labels_are_escaped(tmp_path):
    r = fake_result("optimizer", ("adam", "<b>"))
    write(tmp_path, r)
    page = render_experiment(tmp_path)
    assert "<b>" not in page and "&lt;b&gt;" in page


def test_folder_without_experiment_files_is_one_line_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match="no experiment files") as e:
        experiment_report(tmp_path)
    assert str(tmp_path) in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="not a folder"):
        experiment_report(tmp_path / "missing")
    (tmp_path / "summary.json").write_text(json.dumps({"window": "test", "results": []}))
    with pytest.raises(ConfigError, match="scores.csv"):
        experiment_report(tmp_path)
    assert not (tmp_path / "report.html").exists()


@pytest.mark.browser
def test_experiment_page_in_a_browser(browser, tmp_path):
    write(tmp_path, fake_result())
    rep = browser.render(experiment_report(tmp_path),
                         screenshot=artifacts_dir("report") / "experiment.png")
    rep.assert_clean(warnings=True)
    assert rep.section_ids == ["summary", "repeats", "curves"]
    assert len(rep.images) == 2 and all(i.decoded for i in rep.images)
