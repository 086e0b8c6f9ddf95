"""The reports in a real browser (headless Chromium): they load without console errors or
network requests, show every section, and every plot decodes.  Screenshots are saved under
``test-artifacts/`` (not committed)."""

from __future__ import annotations

import pytest

from lstmtune.cli import main
from tests._browser import artifacts_dir, browser_fixture  # noqa: F401 (fixture "browser")

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STUDY_SECTIONS = ["summary", "verdict", "leaderboard", "best", "repeats", "curves", "history",
                  "importance", "parallel", "forecast", "residuals", "members"]
STUDY_TOML = """
[data]
source = "shampoo"
test_size = 12
val_size = 6
folds = 2
[training]
epochs = 10
batch_size = 4
[search]
strategy = "random"
trials = 6
repeats = 2
batch = 3
final_repeats = 3
[space]
units = { int = [1, 3] }
learning_rate = { float = [1e-3, 1e-1], log = true }
optimizer = { choice = ["adam", "rmsprop"] }
"""


def test_tune_report_in_a_browser(browser, tmp_path, capsys):
    (tmp_path / "study.toml").write_text(STUDY_TOML)
    assert main(["tune", str(tmp_path / "study.toml"), "--out", str(tmp_path / "out")]) == 0
    out = tmp_path / "out" / "study"  # each study its own folder under --out
    html = out / "report.html"
    page = browser.render(html, screenshot=artifacts_dir("report") / "tune-report.png")
    page.assert_clean(warnings=True)
    assert page.section_ids == STUDY_SECTIONS
    assert not page.requests or all(u.startswith(("file:", "data:")) for u in page.requests)
    assert len(page.images) == 8 and all(i.decoded for i in page.images)
    assert page.title.startswith("lstmtune")
    # `lstmtune report` rebuilds the same page from the stored tables alone
    again = tmp_path / "again.html"
    assert main(["report", str(out), "--out", str(again)]) == 0
    assert again.read_text() == html.read_text()


def test_experiment_report_in_a_browser(browser, tmp_path, capsys):
    out = tmp_path / "exp"
    assert main(["experiment", "shampoo", "--vary", "units=1,2", "--set", "epochs=20",
                 "--repeats", "3", "--out", str(out)]) == 0
    page = browser.render(out / "report.html",
                          screenshot=artifacts_dir("report") / "experiment-report.png")
    page.assert_clean(warnings=True)
    assert {"summary", "repeats", "curves"} <= set(page.section_ids)
    assert page.images and all(i.decoded for i in page.images)
