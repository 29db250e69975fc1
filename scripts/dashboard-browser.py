#!/usr/bin/env python3
"""Drives a `tipi ui` page (or a `tipi report` file) in a real headless Chromium through Selenium and
prints what a person would see, as JSON, for the Swift tests (Tests/TipiCLITests/DashboardBrowserTests).

    dashboard-browser.py facts URL SCREENSHOT.png         what the page shows once it is drawn
    dashboard-browser.py watch URL SCREENSHOT.png SECONDS the first chart's point counts, sampled while it lives
    dashboard-browser.py table URL SCREENSHOT.png AFTER [KILL] -- COMMAND...
                                                          the runs table sampled while COMMAND (a real logging
                                                          process, started once the page is drawn) runs, and
                                                          AFTER seconds after it ended (with KILL: SIGKILL after
                                                          KILL seconds); with the page's requests. A second
                                                          screenshot, SCREENSHOT-running.png, once the new run
                                                          shows as running

The browser and its driver: TIPI_TEST_CHROMIUM (default /usr/bin/chromium) and TIPI_TEST_CHROMEDRIVER
(default /usr/bin/chromedriver); nothing is downloaded.
"""
import json
import os
import subprocess
import sys
import threading
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

FACTS = r"""
const text = (node) => (node ? node.textContent : null);
const charts = {};
for (const box of document.querySelectorAll(".chart")) {
  const svg = box.querySelector("svg");
  charts[box.getAttribute("data-metric")] = {
    points: svg ? Number(svg.getAttribute("data-points") || 0) : 0,
    series: svg ? svg.querySelectorAll("path.line").length : 0,
    labels: svg ? [...svg.querySelectorAll("path.line")].map((p) => p.getAttribute("data-label")) : [],
  };
}
return {
  title: document.title,
  url: location.href,
  heading: text(document.querySelector("h1")),
  firstRowsMs: Number(document.body.getAttribute("data-first-rows-ms") || -1),
  rows: [...document.querySelectorAll("#runs tbody tr")].map((tr) => tr.getAttribute("data-run")),
  names: [...document.querySelectorAll("#runs tbody tr td:nth-child(2)")].map(text),
  headers: [...document.querySelectorAll("#runs thead th")].map(text).filter(Boolean),
  charts: charts,
  diff: [...document.querySelectorAll("#config-diff tbody tr")].map((tr) => [...tr.children].map(text)),
  config: [...document.querySelectorAll("#config tr")].map((tr) => [...tr.children].map(text)),
  sweepRows: [...document.querySelectorAll("#sweep-points tbody tr")].map((tr) => [...tr.children].map(text)),
  scatterPoints: [...document.querySelectorAll("svg.scatter circle")].length,
  errors: [...document.querySelectorAll(".error")].map(text).filter(Boolean),
  images: document.querySelectorAll("img").length,
  injected: window.__xss === undefined ? null : String(window.__xss),
  bodyText: document.body.innerText.slice(0, 20000),
};
"""

TABLE = r"""
const table = document.getElementById("runs");
const headers = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
return {
  rows: [...table.querySelectorAll("tbody tr")].map((tr) => {
    const row = { id: tr.getAttribute("data-run") };
    [...tr.children].forEach((td, i) => { if (headers[i]) row[headers[i]] = td.textContent; });
    return row;
  }),
  polls: Number(table.getAttribute("data-live-polls") || 0),
  answered: (table.getAttribute("data-live-runs") || "").split(",").filter(Boolean),
  live: document.getElementById("live").textContent,
  sameDocument: window.__tipiTableTest === 1,
};
"""


def run_id(lines):
    """The id in the logging program's `run ID FOLDER` line, once it printed it."""
    return next((line.split()[1] for line in list(lines) if line.startswith("run ")), None)


def watch_table(driver, screenshot, after, kill, command):
    """Samples the runs table every 0.2 s while `command` runs (killed with SIGKILL after `kill` seconds unless
    None) and `after` seconds more; returns the samples, the run id the command printed, and every request the
    page made to /api/ (from the browser's own resource timing, not the page's code)."""
    driver.execute_script("window.__tipiTableTest = 1; performance.setResourceTimingBufferSize(100000);")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    started = time.monotonic()
    samples, ended, shot, killed_at = [], None, False, None
    try:
        while ended is None or time.monotonic() - ended < after:
            if ended is None and kill is not None and killed_at is None and time.monotonic() - started > kill:
                process.kill()
                killed_at = driver.execute_script("return performance.now() / 1000")
            if ended is None and process.poll() is not None:
                ended = time.monotonic()
            sample = driver.execute_script(TABLE)
            if not shot and any(row["id"] == run_id(lines) and row.get("status") == "running" for row in sample["rows"]):
                driver.save_screenshot(screenshot.replace(".png", "-running.png"))
                shot = True
            sample["t"] = round(time.monotonic() - started, 3)
            sample["processRunning"] = ended is None
            samples.append(sample)
            if time.monotonic() - started > 120:
                raise SystemExit("the logging process did not end within 120 s")
            time.sleep(0.2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=5)
    requests = driver.execute_script(
        "return performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/'))"
        ".map((e) => ({ url: e.name.replace(location.origin, ''), start: e.startTime / 1000 }));")
    return {"samples": samples, "run": run_id(lines), "exitStatus": process.returncode, "requests": requests,
            "processSeconds": round(ended - started, 3), "killedAt": killed_at}


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("TIPI_TEST_CHROMIUM", "/usr/bin/chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]:
        options.add_argument(argument)
    service = Service(os.environ.get("TIPI_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def open_page(driver, url):
    started = time.monotonic()
    driver.get(url)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.body.getAttribute('data-ready')") == "1")
    return time.monotonic() - started


def main():
    command, url, screenshot = sys.argv[1], sys.argv[2], sys.argv[3]
    driver = browser()
    try:
        seconds = open_page(driver, url)
        if command == "facts":
            facts = driver.execute_script(FACTS)
            facts["loadSeconds"] = seconds
        elif command == "watch":
            duration = float(sys.argv[4])
            samples = []
            end = time.monotonic() + duration
            while time.monotonic() < end:
                samples.append(driver.execute_script(
                    "const s = document.querySelector('.chart svg'); return s ? Number(s.getAttribute('data-points')) : -1;"))
                time.sleep(0.5)
            facts = {"samples": samples, "live": driver.execute_script("return document.getElementById('live').textContent")}
        elif command == "table":
            options = sys.argv[4:sys.argv.index("--")]
            facts = watch_table(driver, screenshot, float(options[0]), float(options[1]) if len(options) > 1 else None,
                                sys.argv[sys.argv.index("--") + 1:])
        else:
            raise SystemExit("usage: dashboard-browser.py facts|watch|table URL SCREENSHOT [SECONDS] [-- COMMAND...]")
        driver.save_screenshot(screenshot)
        print(json.dumps(facts))
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
