"""The study report page: sections, plots, numbers, escaping, degenerate studies, atomic
writes — all from synthetic tables (no training)."""

from __future__ import annotations

import dataclasses
import math
import re

import pandas as pd
import pytest

from lstmtune.report import _study
from lstmtune.report._study import SECTIONS, param_text, render_study, write_study_report
from tests._browser import artifacts_dir, browser_fixture  # noqa: F401 (fixture "browser")
from tests.report._fixtures import BASELINES, pngs, section_html, study_tables

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PLOTS_FULL = 8  # repeats, curves, history, importance, parallel + slices, forecast, residuals
PLOTS_NO_FINAL = 5  # repeats, history, importance, parallel + slices
NO_FINAL_SECTIONS = ("best", "curves", "forecast", "residuals")


@pytest.fixture(scope="module")
def full() -> tuple:
    """The synthetic study with its final evaluation, and its rendered page (once)."""
    t = study_tables()
    return t, render_study(t)


def test_every_section_in_order_with_a_heading(full):
    page = full[1]
    ids = re.findall(r'<section id="([^"]+)">', page)
    assert ids == list(SECTIONS)
    assert ids == ["summary", "verdict", "leaderboard", "best", "repeats", "curves",
                   "history", "importance", "parallel", "forecast", "residuals", "members"]
    for sid in ids:
        assert re.match(r"\s*<h2>[^<]+</h2>", section_html(page, sid))


def test_every_promised_plot_is_an_embedded_png(full):
    page = full[1]
    assert page.count("<img") == PLOTS_FULL
    decoded = pngs(page)
    assert len(decoded) == PLOTS_FULL
    assert all(p.startswith(PNG_MAGIC) and len(p) > 1000 for p in decoded)
    for sid in ("repeats", "curves", "history", "importance", "forecast", "residuals"):
        assert section_html(page, sid).count("<img") == 1, sid
    assert section_html(page, "parallel").count("<img") == 2


def test_self_contained_no_network(full):
    page = full[1]
    assert not re.search(r"https?://", page)
    assert not re.search(r"<(script|link)\b", page)
    assert not re.search(r"(src|href)\s*=\s*[\"'](?!data:image/png;base64,)", page)


def test_leaderboard_first_row_is_lowest_value(full):
    t, page = full
    done = t.trials[t.trials["state"] == "COMPLETE"]
    best = int(done.loc[done["value"].idxmin(), "number"])
    board = section_html(page, "leaderboard")
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", board.split("<tbody>")[1], re.S)
    assert len(rows) == 10
    cells = re.findall(r"<td[^>]*>(.*?)</td>", rows[0])
    assert cells[0] == "1" and cells[1] == str(best)
    assert cells[2] == f"{done['value'].min():.3f}"
    s = t.members.loc[t.members["trial"] == best, "score"]
    assert cells[3] == f"{s.mean():.3f} ± {s.std(ddof=1):.3f}" and cells[4] == "6"
    values = [float(re.findall(r"<td[^>]*>(.*?)</td>", r)[2]) for r in rows]
    assert values == sorted(values)


def test_best_section_shows_test_rmse_beside_every_baseline(full):
    t, page = full
    best = section_html(page, "best")
    test = t.final["test"]
    assert f"{test['rmse']:.3f} ± {test['rmse_std']:.3f}" in best
    for name, rmse in BASELINES.items():
        assert re.search(rf"<td class=\"l\">{name}</td><td>{rmse:.3f}</td>", best)
    assert "once" in best and "2003-01 – 2003-12" in best
    for p, v in t.final["best_params"].items():
        assert f'<td class="l">{p}</td><td class="l">{param_text(v)}</td>' in best
    assert "batch_size" in best  # fixed values too


def test_summary_states_data_split_protocol_and_counts(full):
    t, page = full
    s = section_html(page, "summary")
    n = t.trials["state"].value_counts()
    assert f"{n['COMPLETE']} complete, {n['PRUNED']} pruned, {n['FAIL']} failed" in s
    for text in ("shampoo", "36 points", "2001-01 – 2003-12", "3 repeats × 2 folds",
                 "aggregate mean", "strategy tpe", "pruner median", "0.1.0", "2 min 3 s"):
        assert text in s, text


def test_html_is_escaped():
    t = study_tables()
    trials = t.trials.copy()
    best = trials.loc[trials["value"].idxmin()].name
    trials.loc[best, "param_optimizer"] = "<b>"
    trials.loc[trials["state"] == "FAIL", "fail_reason"] = "x < y & <script>alert(1)</script>"
    meta = {**t.meta, "study_name": "<i>name</i>"}
    page = render_study(dataclasses.replace(t, trials=trials, meta=meta))
    assert "<b>" not in page and "<i>" not in page and "<script" not in page
    assert "&lt;b&gt;" in section_html(page, "leaderboard")
    assert "&lt;script&gt;" in section_html(page, "members")
    assert "&lt;i&gt;name&lt;/i&gt;" in page


def test_without_final_evaluation_those_sections_say_so():
    page = render_study(study_tables(final=False))
    assert re.findall(r'<section id="([^"]+)">', page) == list(SECTIONS)
    for sid in NO_FINAL_SECTIONS:
        body = section_html(page, sid)
        assert "no final evaluation" in body and "<img" not in body
    assert len(pngs(page)) == PLOTS_NO_FINAL


def test_zero_complete_trials():
    page = render_study(study_tables(12, final=False, complete=False))
    assert "No trial has completed." in section_html(page, "leaderboard")
    assert "No trial has completed." in section_html(page, "parallel")
    assert "at least 2 completed trials" in section_html(page, "importance")
    assert "<img" not in section_html(page, "repeats")
    assert len(pngs(page)) == 1  # the history still marks the 12 pruned trials
    assert "All 12 trials" in section_html(page, "members")


def test_empty_study():
    t = study_tables(final=False)
    empty = dataclasses.replace(t, trials=t.trials.iloc[0:0], members=t.members.iloc[0:0],
                                importance=t.importance.iloc[0:0])
    page = render_study(empty)
    assert re.findall(r'<section id="([^"]+)">', page) == list(SECTIONS)
    assert "<img" not in page


def test_one_param_nan_values_and_missing_history():
    t = study_tables()
    trials = t.trials.drop(columns=["param_units", "param_optimizer"]).copy()
    trials.loc[3, "param_learning_rate"] = math.nan  # a conditional parameter left unset
    trials.loc[trials["state"] == "COMPLETE", "duration_s"] = math.nan
    forecast = t.forecast.copy()
    forecast.loc[2, ["mean", "member_1"]] = math.nan
    page = render_study(dataclasses.replace(t, trials=trials, history=pd.DataFrame(),
                                            forecast=forecast))
    assert "No per-epoch curves were stored." in section_html(page, "curves")
    assert len(pngs(page)) == PLOTS_FULL - 1
    assert all(p.startswith(PNG_MAGIC) for p in pngs(page))


def test_all_categorical_params_and_constant_numbers():
    t = study_tables()
    trials = t.trials.copy()
    trials["param_units"] = 8
    trials["param_stateful"] = [bool(i % 2) for i in range(len(trials))]
    page = render_study(dataclasses.replace(t, trials=trials))
    assert "stateful" in section_html(page, "leaderboard")
    assert len(pngs(page)) == PLOTS_FULL


def test_write_is_atomic_and_creates_parents(full, tmp_path, monkeypatch):
    t, page = full
    path = write_study_report(t, tmp_path / "a" / "b" / "report.html")
    assert path.read_text(encoding="utf-8") == page  # same tables, same bytes
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]

    def boom(tables):
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(_study, "render_study", boom)
    with pytest.raises(RuntimeError):
        write_study_report(t, tmp_path / "c" / "report.html")
    assert not (tmp_path / "c" / "report.html").exists()
    assert not list(tmp_path.rglob("*.tmp"))


def test_failed_replace_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "report.html"
    path.write_text("old")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("lstmtune._files.os.replace", fail)
    with pytest.raises(OSError):
        write_study_report(study_tables(final=False), path)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_page_stays_small_with_200_trials():
    page = render_study(study_tables(200))
    assert len(page.encode()) < 1.5e6
    assert "All 200 trials" in page


@pytest.mark.browser
def test_study_report_in_a_browser(full, browser, tmp_path):
    path = write_study_report(full[0], tmp_path / "report.html")
    rep = browser.render(path, screenshot=artifacts_dir("report") / "study.png")
    rep.assert_clean(warnings=True)
    assert rep.section_ids == list(SECTIONS)
    assert len(rep.images) == PLOTS_FULL and all(i.decoded for i in rep.images)
    assert rep.external_requests == []
