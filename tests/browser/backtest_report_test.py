#!/usr/bin/env python3
"""The backtest's HTML report in a real headless Chromium.

Writes a small labelled population with `mozaiek generate --labelled`, runs
`mozaiek backtest` with the shipped rules as baseline and a candidate with a
lower person threshold, opens the HTML report from a file:// URL in Debian's
chromium through chromedriver and checks:

- the plots are there and carry data: alerts per week per rule (line plots
  with points), the detection-delay distribution and the difference per rule
  (bars), and the precision-recall curve (points for both sides and a marker
  at each side's threshold);
- the counts the page shows are the ones the NDJSON output says (only in
  candidate, only in baseline, changed), and the episode tables list that
  many rows (all of them: the population is small);
- the page is self-contained: no script, no stylesheet or image link, and the
  browser made no request other than the file itself;
- no raw person id of the labels file appears in the page;
- the browser's log holds no errors or warnings.

Usage: backtest_report_test.py --mozaiek PATH [--chromedriver PATH] [--chromium PATH]
                               [--screenshot PNG]
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT = Path(__file__).resolve().parents[2]


def start_browser(chromedriver: str, chromium: str | None, profile: Path) -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    if chromium:
        opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-proxy-server", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-default-apps",
                "--disable-extensions", "--window-size=1400,1000", f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=chromedriver), options=opts)


def run(cmd: list[str]) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr[-2000:]}")
    return r.stdout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mozaiek", required=True)
    ap.add_argument("--chromedriver", default="chromedriver")
    ap.add_argument("--chromium")
    ap.add_argument("--screenshot")
    args = ap.parse_args()
    failures: list[str] = []

    def check(ok: bool, message: str) -> None:
        if not ok:
            failures.append(message)
            print("FAIL: " + message, flush=True)

    with tempfile.TemporaryDirectory(prefix="backtest-report-") as tmp:
        d = Path(tmp)
        shipped = ROOT / "config" / "mozaiek.yaml"
        candidate = d / "candidate.yaml"
        text = shipped.read_text()
        # The person rule's threshold, lowered by two points.
        person = text.index("\n  person:\n", text.index("\nrules:"))
        m = re.compile(r"threshold: ([0-9.]+)").search(text, person)
        lowered = max(1.0, float(m.group(1)) - 2)
        candidate.write_text(text[:m.start()] + f"threshold: {lowered}" + text[m.end():])
        run([args.mozaiek, "generate", "--labelled", "-o", str(d / "history.ndjson"),
             "--labels", str(d / "labels.ndjson"), "--persons", "1500", "--cases", "40",
             "--seed", "5", "--config", str(shipped)])
        out = run([args.mozaiek, "backtest", "--demo-key", "--baseline", str(shipped),
                   "--candidate", str(candidate), "--input", str(d / "history.ndjson"),
                   "--labels", str(d / "labels.ndjson"), "--out-ndjson", str(d / "r.ndjson"),
                   "--out-html", str(d / "report.html")])
        check(out.startswith("backtest: baseline "), f"summary line: {out!r}")
        records = [json.loads(line) for line in (d / "r.ndjson").read_text().splitlines()]
        summary = next(r for r in records if r["record"] == "summary")
        html = (d / "report.html").read_text()
        check("<script" not in html.lower(), "the report carries a script")
        check(re.search(r'<link|src=|url\(', html) is None, "the report links something")
        raw_ids = [json.loads(line)["id"] for line in (d / "labels.ndjson").read_text().splitlines()]
        check(not any(i in html for i in raw_ids), "a raw person id in the report")

        profile = d / "profile"
        driver = start_browser(args.chromedriver, args.chromium, profile)
        try:
            url = (d / "report.html").as_uri()
            driver.get(url)
            svgs = driver.find_elements(By.CSS_SELECTOR, "svg.plot")
            titles = [s.get_attribute("aria-label") for s in svgs]
            weekly = [s for s in svgs if s.get_attribute("aria-label").endswith("alerts per week")]
            check(len(weekly) >= 1, f"no weekly plot among {titles}")
            for s in weekly:
                pts = s.find_elements(By.CSS_SELECTOR, "circle.pt")
                check(len(pts) >= 2, f"{s.get_attribute('aria-label')}: {len(pts)} points")
            for label in ("Detection delay", "The difference per rule"):
                plot = [s for s in svgs if s.get_attribute("aria-label").startswith(label)]
                check(len(plot) == 1, f"{label}: {len(plot)} plots")
                if plot:
                    bars = plot[0].find_elements(By.CSS_SELECTOR, "rect.bar")
                    check(len(bars) >= 2, f"{label}: {len(bars)} bars")
                    check(any(float(b.get_attribute("height")) > 1 for b in bars),
                          f"{label}: every bar empty")
            pr = [s for s in svgs if s.get_attribute("aria-label").startswith("Precision and recall")]
            check(len(pr) == 1, "no precision-recall plot")
            if pr:
                for side in ("baseline", "candidate"):
                    pts = pr[0].find_elements(By.CSS_SELECTOR,
                                              f'g.series[data-series="{side}"] circle.pt')
                    check(len(pts) >= 10, f"PR curve {side}: {len(pts)} points")
                check(len(pr[0].find_elements(By.CSS_SELECTOR, "circle.marker")) == 2,
                      "PR curve: not one threshold marker per side")
                check(pr[0].size["height"] > 100, "PR curve not laid out")
            for kind in ("only_candidate", "only_baseline", "changed"):
                heading = driver.find_element(By.ID, kind).text
                check(f"({summary[kind]})" in heading, f"{kind}: heading {heading!r}, "
                      f"NDJSON {summary[kind]}")
                rows = driver.find_elements(
                    By.XPATH, f'//h3[@id="{kind}"]/following-sibling::*[1][self::table]/tbody/tr')
                check(len(rows) == summary[kind], f"{kind}: {len(rows)} rows, "
                      f"NDJSON {summary[kind]}")
            check(summary["only_candidate"] > 0, "a lower threshold added no episode")
            requests = set()
            for entry in driver.get_log("performance"):
                msg = json.loads(entry["message"])["message"]
                if msg.get("method") == "Network.requestWillBeSent":
                    requests.add(msg["params"]["request"]["url"])
            # The browser's own pages (its new-tab page: chrome://, data:) are not the report's.
            fetched = {u for u in requests if u.split(":", 1)[0] in ("http", "https", "file", "ws",
                                                                    "wss", "ftp")}
            check(fetched == {url}, f"requests besides the file: {sorted(fetched - {url})}")
            problems = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
            check(not problems, f"browser log: {problems}")
            if args.screenshot:
                driver.save_screenshot(args.screenshot)
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("backtest report: plots and counts present, self-contained")
    return 0


if __name__ == "__main__":
    sys.exit(main())
