"""Render the HTML report in headless Chromium: tables and images visible, nothing broken.

Skipped locally when Chromium is missing; fails under CI=true. Saves a screenshot to
``test-artifacts/report.png``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_report_fixtures import make_results

from fusionbench.report.build import build_report

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture()
def driver(tmp_path: Path):
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        message = f"headless Chromium not installed ({CHROMIUM}, {DRIVER})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1400,1000",
                f"--user-data-dir={tmp_path / 'chrome-profile'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield drv
    drv.quit()


EVIL = "<script>window.pwned=1</script>"
EVIL_IMG = '<img src=x onerror="window.pwned=2">'


@pytest.mark.browser
def test_report_renders_in_chromium(tmp_path: Path, driver) -> None:
    scores = {"alpha": {"EN": [1, 2, 3], "RMSE": [1, 1, 1]},
              EVIL: {"EN": [2, 2, 2], "RMSE": [3, 3, 3]},
              "gamma": {"EN": [1, 1], "RMSE": [0.5, 1.5]}}
    root = make_results(tmp_path / "res", scores=scores,
                        manifest={"alpha": {"note": EVIL_IMG, "synthetic_data": True}})
    index = build_report(root, tmp_path / "out", formats=["html"], paper_scores=None)
    driver.get(index.as_uri())
    driver.execute_script(
        "return Promise.all([...document.images].map(i => i.complete ? 1 :"
        " new Promise(r => { i.onload = r; i.onerror = r; })))")
    tables = driver.find_elements("css selector", "table.summary")
    assert [t.get_attribute("data-scope") for t in tables] == ["main", "shared"]
    assert all(t.is_displayed() for t in tables)
    main = tables[0]
    assert "alpha" in main.text and "<script>" in main.text  # shown as text, not run
    ranked = main.find_elements("css selector", "tbody.ranked tr")
    partial = main.find_elements("css selector", "tbody.partial tr[data-method]")
    assert len(ranked) == 2 and [r.get_attribute("data-method") for r in partial] == ["gamma"]
    assert "not ranked" in main.find_element("css selector", "tbody.partial tr.rule").text
    assert "gamma [1 failed]" in partial[0].text
    assert main.find_elements("css selector", "tbody.partial td.rank-1") == []
    assert "SYNTHETIC DATA" in main.find_element("css selector", "caption").text
    assert driver.execute_script("return window.pwned === undefined")
    # No user text became markup: the only <script>/<img onerror> are none at all.
    assert driver.execute_script("return document.scripts.length") == 0
    assert driver.execute_script("return document.querySelectorAll('[onerror]').length") == 0
    images = driver.execute_script(
        "return [...document.images].map(i => [i.getAttribute('src'), i.naturalWidth,"
        " i.getBoundingClientRect().width])")
    assert len(images) == 3  # one box plot (main table), two grids
    assert all(width > 0 for _, width, _ in images), images
    box = next(i for i in images if "box_" in i[0])
    assert box[2] >= 900  # the box-plot panel is shown at page width, not a thumbnail
    assert all(driver.find_element("css selector", f"img[src='{src}']").is_displayed()
               for src, _, _ in images)
    for link in driver.find_elements("css selector", "a[href$='.svg']"):
        assert (index.parent / link.get_attribute("href").split("/out/")[-1]).is_file()
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    driver.set_window_size(1400, 2400)
    assert driver.save_screenshot(str(ARTIFACTS / "report.png"))
    shutil.copy(ARTIFACTS / "report.png", tmp_path / "report.png")
