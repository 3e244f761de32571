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


@pytest.mark.browser
def test_report_renders_in_chromium(tmp_path: Path, driver) -> None:
    scores = {"alpha": {"EN": [1, 2, 3], "RMSE": [1, 1, 1]},
              "<script>window.pwned=1</script>": {"EN": [2, 2, 2], "RMSE": [3, 3, 3]},
              "gamma": {"EN": [1, 1], "RMSE": [0.5, 1.5]}}
    index = build_report(make_results(tmp_path / "res", scores=scores), tmp_path / "out",
                         formats=["html"], paper_scores=None)
    driver.get(index.as_uri())
    driver.execute_script(
        "return Promise.all([...document.images].map(i => i.complete ? 1 :"
        " new Promise(r => { i.onload = r; i.onerror = r; })))")
    tables = driver.find_elements("css selector", "table.summary")
    assert tables and all(t.is_displayed() for t in tables)
    assert "alpha" in tables[0].text and "<script>" in tables[0].text  # shown as text
    assert driver.execute_script("return window.pwned === undefined")
    images = driver.execute_script(
        "return [...document.images].map(i => [i.getAttribute('src'), i.naturalWidth])")
    assert len(images) == 3  # one box plot, two grids
    assert all(width > 0 for _, width in images), images
    assert all(driver.find_element("css selector", f"img[src='{src}']").is_displayed()
               for src, _ in images)
    for link in driver.find_elements("css selector", "a[href$='.svg']"):
        assert (index.parent / link.get_attribute("href").split("/out/")[-1]).is_file()
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    driver.set_window_size(1400, 2400)
    assert driver.save_screenshot(str(ARTIFACTS / "report.png"))
    shutil.copy(ARTIFACTS / "report.png", tmp_path / "report.png")
