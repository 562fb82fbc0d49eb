#!/usr/bin/env python3
"""The analysts' web console in a real headless Chromium.

Starts `mozaiek demo` (embedded Kafka cluster, synthetic partner traffic at a
slow rate, so alerts keep firing while the page is open) on a free loopback
port, opens the console in Debian's chromium through chromedriver and checks,
against the service's own API:

- without a provider there is no login: the page names the demo identity;
- alerts arrive live over the stream: the list grows after the page loaded,
  without a reload, and the new rows are marked as new;
- a row's detail lists exactly the contribution signal ids of that alert in
  /api/alerts;
- the rules tab lists exactly the rule names of /api/rules, the version in
  force and its history;
- the entity view refuses a lookup without a reason (no request leaves the
  browser; the API refuses one too), then shows the entity with a reason: the
  request carried no user header (the service takes the principal from the
  credential; the demo's is its announced identity "demo"), was answered 200
  (the service answers only after the audit record is written) and the view
  lists the alert; the audit read-back of the entity names the demo principal; a
  plate the service never saw shows the API's own error text; the audit
  counter mozaiek_entity_lookups_total counts exactly those lookups;
- when the service has alert actions: dismissing from the detail, with a
  reason, changes the alert's status in the detail, the list and /api/alerts
  and shows in its history;
- every request the page made went to the service's origin;
- the browser's console log holds no errors or warnings.

Usage: console_test.py --mozaiek PATH [--chromedriver PATH] [--chromium PATH]
                       [--screenshot PNG]
"""

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "dashboards"))

import dashlib  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

DEMO_SECONDS = 150          # the demo stops by itself should cleanup ever fail
DEMO_ARGS = ["--rate", "400", "--signals", "30000"]
LIVE_DEADLINE_S = 40        # how long the list may take to grow after the page loaded
UI_DEADLINE_S = 10          # how long the page may take to show what it fetched
ANALYST = "demo"          # the principal every demo request acts as
ENTITY_TYPES = ("person", "vehicle", "location")


class Failures(list):
    def check(self, ok: bool, message: str) -> bool:
        if not ok:
            self.append(message)
            print("FAIL: " + message, flush=True)
        return ok


def api_json(base: str, path: str, headers: dict | None = None) -> tuple[int, object]:
    req = urllib.request.Request(base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode() or "null")


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


def shown_counts(driver) -> tuple[int, int]:
    """(shown, held) from the counter "N of M alerts shown"."""
    words = driver.find_element(By.ID, "alert-count").text.split()
    return int(words[0]), int(words[2])


def click(driver, css: str) -> None:
    # The list and the open detail re-render on every live alert or action;
    # find the element afresh on each try.
    def attempt():
        try:
            driver.find_element(By.CSS_SELECTOR, css).click()
            return True
        except StaleElementReferenceException:
            return False
    dashlib.wait_for(attempt, UI_DEADLINE_S, f"a clickable {css}", 0.05)


def click_row(driver, alert_id: str) -> None:
    click(driver, f'tr[data-alert-id="{alert_id}"]')


def texts(driver, css: str) -> list[str]:
    for _ in range(20):
        try:
            return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]
        except StaleElementReferenceException:
            time.sleep(0.05)
    raise RuntimeError(f"{css}: the page kept re-rendering")


def network_events(perf_log: list[dict], page: str) -> tuple[list[dict], dict[str, int]]:
    """The requests made by documents loaded from `page` (the browser's own
    new-tab page is not ours): url, method, headers; and each one's status."""
    requests, status = [], {}
    for entry in perf_log:
        msg = json.loads(entry["message"])["message"]
        params = msg.get("params", {})
        if msg.get("method") == "Network.requestWillBeSent" and \
                params.get("documentURL", "").startswith(page):
            r = params["request"]
            requests.append({"id": params["requestId"], "url": r["url"], "method": r["method"],
                             "headers": r.get("headers", {})})
        elif msg.get("method") == "Network.responseReceived":
            status[params["requestId"]] = params["response"]["status"]
    return requests, status


def pick_alert(rows: list[str], by_id: dict) -> dict | None:
    """The newest listed alert about a person, vehicle or location with contributions."""
    for alert_id in rows:
        a = by_id.get(alert_id)
        if a and a["subject"]["type"] in ENTITY_TYPES and a["contributions"]:
            return a
    return None


def run(args, base: str, driver, failures: Failures) -> None:
    driver.get(base + "/")
    driver.execute_script("window.__mozaiekNoReload = true;")
    dashlib.wait_for(lambda: driver.find_element(By.ID, "stream-state").text == "live",
                     UI_DEADLINE_S, "the console to subscribe to the alert stream")
    dashlib.wait_for(lambda: driver.find_element(By.ID, "ready-state").text == "ready",
                     UI_DEADLINE_S, "the console's health line to say ready")
    # No provider: no login, the demo identity shown as the service named it.
    failures.check(not driver.find_element(By.ID, "login").is_displayed(),
                   "the demo console asks to log in")
    failures.check(driver.find_element(By.ID, "who-name").text == ANALYST,
                   f"the page names '{driver.find_element(By.ID, 'who-name').text}', not the "
                   f"demo identity")
    failures.check("demo identity" in driver.find_element(By.ID, "who").text,
                   "the page does not say it runs under the demo identity")
    failures.check(not driver.find_element(By.ID, "logout").is_displayed(),
                   "the demo console offers a log-out")

    # Live: the list grows while the page stays loaded.
    dashlib.wait_for(lambda: not driver.find_element(By.ID, "alerts-empty")
                     .get_attribute("textContent").startswith("Loading"),
                     UI_DEADLINE_S, "the console to load /api/alerts")
    _, held_at_load = shown_counts(driver)
    grown = dashlib.wait_for(lambda: shown_counts(driver)[1] > held_at_load and shown_counts(driver),
                             LIVE_DEADLINE_S, "a live alert to reach the list")
    print(f"list held {held_at_load} alerts after load, {grown[1]} later", flush=True)
    failures.check(driver.execute_script("return window.__mozaiekNoReload === true;"),
                   "the page reloaded while waiting for live alerts")
    failures.check(len(driver.find_elements(By.CSS_SELECTOR, "#alerts-body tr.fresh")) > 0,
                   "no row marked as new after live alerts arrived")

    # Detail: the contributions of a listed alert, as the API has them.
    status, listed = api_json(base, "/api/alerts?limit=1000")
    failures.check(status == 200, f"/api/alerts answered {status}")
    by_id = {a["alert_id"]: a for a in listed}
    rows = [r.get_attribute("data-alert-id")
            for r in driver.find_elements(By.CSS_SELECTOR, "#alerts-body tr")]
    alert = pick_alert(rows, by_id)
    if not failures.check(alert is not None, "no listed alert about an entity with contributions"):
        return
    click_row(driver, alert["alert_id"])

    def served_ids() -> list[str]:
        # A re-raise keeps the alert id and may bring more contributions:
        # compare with what the API holds now.
        _, now = api_json(base, "/api/alerts?limit=1000")
        return next([c["signal_id"] for c in a["contributions"]]
                    for a in now if a["alert_id"] == alert["alert_id"])
    try:
        dashlib.wait_for(lambda: texts(driver, "#detail-contributions .signal-id") == served_ids(),
                         UI_DEADLINE_S, f"the detail of {alert['alert_id']} to list its signals")
    except TimeoutError as e:
        failures.check(False, f"{e}: the page lists "
                       f"{texts(driver, '#detail-contributions .signal-id')}, the API {served_ids()}")
        return
    fields = driver.find_element(By.ID, "detail-fields").text
    failures.check(alert["alert_id"] in fields, "the detail does not show the alert id")
    failures.check(alert["subject"]["key"] in fields,
                   "the detail does not show the subject's full key")

    # Rules tab: exactly the rules the API serves.
    status, state = api_json(base, "/api/rules")
    rules = state.get("rules", []) if isinstance(state, dict) else []
    failures.check(status == 200 and len(rules) > 0, f"/api/rules answered {status}: {state}")
    driver.find_element(By.ID, "tab-rules").click()
    want = [r["name"] for r in rules]
    dashlib.wait_for(lambda: texts(driver, "#rules-table th.rule-name") == want, UI_DEADLINE_S,
                     f"the rules tab to list {want}")
    # The version in force and its history (the start is its first entry).
    version = state.get("version", "") if isinstance(state, dict) else ""
    failures.check(re.fullmatch(r"[0-9]+-[0-9a-f]{12}", version) is not None,
                   f"/api/rules names no version: {version!r}")
    dashlib.wait_for(lambda: driver.find_element(By.ID, "rules-version").text == version,
                     UI_DEADLINE_S, f"the rules tab to show version {version}")
    dashlib.wait_for(
        lambda: version in texts(driver, "#rules-history tbody td")
        and "started" in texts(driver, "#rules-history tbody td"),
        UI_DEADLINE_S, "the rules tab to list the start of the version in its history")
    failures.check(driver.find_element(By.ID, "alerts-view").is_displayed() is False,
                   "the alert list stays visible on the rules tab")
    driver.find_element(By.ID, "tab-alerts").click()

    # Entity view: refused without a reason, shown with one.
    failures.check(not driver.find_elements(By.ID, "analyst-name"),
                   "the page still asks for an analyst name")
    subject = alert["subject"]
    click_row(driver, alert["alert_id"])
    click(driver, "#detail-fields button")
    shown = (driver.find_element(By.ID, "entity-type").get_attribute("value"),
             driver.find_element(By.ID, "entity-key").get_attribute("value"))
    failures.check(shown == (subject["type"], subject["key"]),
                   f"entity view opened for {shown}, not {subject['type']} {subject['key']}")
    driver.find_element(By.ID, "entity-submit").click()
    message = driver.find_element(By.ID, "entity-message")
    failures.check(message.is_displayed() and "reason is required" in message.text,
                   f"no refusal shown without a reason: '{message.text}'")
    failures.check(not driver.find_element(By.ID, "entity-result").is_displayed(),
                   "the entity was shown without a reason")
    entity_path = f"/api/entities/{subject['type']}/{urllib.parse.quote(subject['key'])}"
    status, body = api_json(base, entity_path)
    failures.check(status == 400 and "reason" in (body or {}).get("error", ""),
                   f"the API answered a lookup without reason with {status} {body}")

    reason = "browser test: checking the alert"
    driver.find_element(By.ID, "entity-reason").send_keys(reason)
    driver.find_element(By.ID, "entity-submit").click()
    dashlib.wait_for(lambda: driver.find_element(By.ID, "entity-result").is_displayed()
                     or driver.find_element(By.ID, "entity-message").is_displayed(),
                     UI_DEADLINE_S + 20, "the entity view to answer")
    if failures.check(driver.find_element(By.ID, "entity-result").is_displayed(),
                      "entity not shown: " + driver.find_element(By.ID, "entity-message").text):
        failures.check(subject["key"] in driver.find_element(By.ID, "entity-fields").text,
                       "the entity view does not name the entity")
        score = driver.find_element(By.ID, "entity-score").text
        failures.check(re.fullmatch(r"\d+\.\d{3}", score) is not None,
                       f"the entity view shows score '{score}'")
        failures.check(alert["alert_id"] in driver.find_element(By.ID, "entity-alerts").text,
                       f"the entity view does not list alert {alert['alert_id']}")

    if args.screenshot:
        driver.execute_script("window.scrollTo(0, 0);")
        driver.save_screenshot(args.screenshot)

    # A lookup the service refuses: the page shows the service's own words.
    missing_url = check_refusal_shown(base, driver, failures, reason)

    # Audited: one found and two not_found lookups (the page's and this
    # test's own for the unknown plate); the one without a reason never
    # reached the entity state and is no lookup.
    want = {"found": 1.0, "not_found": 2.0, "unaudited": 0.0}
    try:
        dashlib.wait_for(lambda: lookup_counts(base) == want, UI_DEADLINE_S,
                         f"mozaiek_entity_lookups_total to read {want}")
    except TimeoutError as e:
        failures.check(False, f"{e}: it reads {lookup_counts(base)}")

    actions_available = check_actions(base, driver, failures)
    check_audit_trail(base, subject, reason, failures)

    # Network: same origin only; the entity lookup carried the user and reason
    # and was answered 200, which the service does only after writing the audit record.
    requests, status_of = network_events(driver.get_log("performance"), base + "/")
    foreign = [r["url"] for r in requests if not r["url"].startswith(base + "/")]
    failures.check(not foreign, f"requests to other origins: {foreign}")
    lookups = [r for r in requests if r["url"].startswith(base + "/api/entities/")]
    failures.check([r["url"] for r in lookups][1:] == [missing_url],
                   f"expected two entity requests (with a reason, then the unknown plate), "
                   f"saw {[r['url'] for r in lookups]}")
    for r in lookups[:1]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(r["url"]).query)
        failures.check(query.get("reason") == [reason], f"entity request without the reason: {r['url']}")
        failures.check("X-Mozaiek-User" not in r["headers"],
                       f"entity request names its user in a header: {r['headers']}")
        failures.check(status_of.get(r["id"]) == 200,
                       f"entity request answered {status_of.get(r['id'])}")
    paths = {urllib.parse.urlsplit(r["url"]).path for r in requests}
    for p in ("/", "/console/console.js", "/console/console.css", "/api/alerts/stream",
              "/api/alerts", "/api/rules", "/readyz", "/api/auth/config", "/api/whoami"):
        failures.check(p in paths, f"the page never requested {p}")
    if not actions_available:
        print("alert actions: not served by this build (404); the actions check was skipped")

    # Chromium logs every 4xx answer as a network error; the unknown plate's is expected.
    problems = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")
                and not (e["source"] == "network" and e["message"].startswith(missing_url + " ")
                         and "404" in e["message"])]
    failures.check(not problems, f"browser console: {problems}")


def check_audit_trail(base: str, subject: dict, reason: str, failures: Failures) -> None:
    """The audit read-back of the entity the page looked up lists that
    lookup, by the demo principal, with its reason."""
    query = urllib.parse.urlencode({"type": subject["type"], "key": subject["key"]})

    def views():
        status, body = api_json(base, "/api/audit?" + query)
        if status != 200:
            return []
        return [r for r in body["records"] if r["action"] == "entity_view"
                and r["principal"] == ANALYST and r.get("reason") == reason]
    try:
        dashlib.wait_for(lambda: len(views()) >= 1, UI_DEADLINE_S,
                         "the audit read-back to list the page's lookup")
    except TimeoutError as e:
        failures.check(False, f"{e}: {api_json(base, '/api/audit?' + query)}")


def lookup_counts(base: str) -> dict[str, float]:
    _, text = dashlib.http_get(base + "/metrics")
    counts = {}
    for line in text.splitlines():
        if line.startswith("mozaiek_entity_lookups_total{"):
            labels, value = line.rsplit(" ", 1)
            counts[labels.split('outcome="')[1].split('"')[0]] = float(value)
    return counts


def check_refusal_shown(base: str, driver, failures: Failures, reason: str) -> str:
    """Looks up a plate the service has never seen; the page must show the
    API's error text. Returns the URL the page asked."""
    plate = "NO-SUCH-PLATE-1"
    driver.find_element(By.ID, "open-entity").click()
    failures.check(driver.find_element(By.ID, "entity-key").get_attribute("value") == "",
                   "the entity lookup did not open empty")
    driver.find_element(By.ID, "entity-key").send_keys(plate)
    driver.find_element(By.ID, "entity-reason").send_keys(reason)
    driver.find_element(By.ID, "entity-submit").click()
    message = driver.find_element(By.ID, "entity-message")
    dashlib.wait_for(message.is_displayed, UI_DEADLINE_S + 20, "the refusal of an unknown plate")
    query = "?reason=" + urllib.parse.quote(reason, safe="")
    status, body = api_json(base, f"/api/entities/vehicle/{plate}{query}")
    failures.check(status == 404, f"the API answered an unknown plate with {status} {body}")
    failures.check(message.text == f"Refused: {body['error']}",
                   f"the page shows '{message.text}', the API said '{body['error']}'")
    failures.check(not driver.find_element(By.ID, "entity-result").is_displayed(),
                   "an entity was shown for an unknown plate")
    return f"{base}/api/entities/vehicle/{plate}{query}"


def level_in(status_text: str) -> int:
    """The escalation level in a status text such as "level 2 · escalated"
    (-1 when it names none)."""
    words = status_text.split()
    for i, w in enumerate(words[:-1]):
        if w == "level" and words[i + 1].isdigit():
            return int(words[i + 1])
    return -1


def check_actions(base: str, driver, failures: Failures) -> bool:
    """Dismisses the shown alert from its detail, with a reason, when the
    service has alert actions; returns False when it has not (the POST route
    answers 404 without a JSON body)."""
    probe = urllib.request.Request(base + "/api/alerts/none/actions", data=b"{}", method="POST",
                                   headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(probe, timeout=15)
    except urllib.error.HTTPError as e:
        if e.code == 404 and not e.read():
            return False
    alert_id = driver.execute_script(
        "return document.querySelector('#alerts-body tr.selected').dataset.alertId;")
    row_status = f'#alerts-body tr[data-alert-id="{alert_id}"] .status'
    failures.check("dismissed" not in " ".join(texts(driver, row_status)),
                   f"alert {alert_id} is dismissed before anyone dismissed it")
    level_before = level_in(" ".join(texts(driver, row_status)))

    # The demo keeps scoring: the scorer may escalate this very alert after
    # the dismissal, which reopens it (the latest word wins). Either is right.
    def dismissed_or_reopened(text: str) -> bool:
        return "dismissed" in text or ("escalated" in text and level_in(text) > level_before)
    why = "browser test: duplicate of an earlier case"
    driver.find_element(By.ID, "action-reason").send_keys(why)
    driver.find_element(By.CSS_SELECTOR, '#action-form button[data-action="dismiss"]').click()
    dashlib.wait_for(lambda: dismissed_or_reopened(" ".join(texts(driver, "#detail-status"))),
                     UI_DEADLINE_S, "the detail to show the alert dismissed")
    dashlib.wait_for(lambda: dismissed_or_reopened(" ".join(texts(driver, row_status))),
                     UI_DEADLINE_S, "the list to show the alert dismissed")
    history = driver.find_element(By.ID, "action-history").text
    failures.check("dismiss" in history and ANALYST in history and why in history,
                   f"the actions history does not show the dismissal: '{history}'")

    def served_status():
        _, listed = api_json(base, "/api/alerts?limit=1000")
        held = next((a for a in listed if a["alert_id"] == alert_id), None)
        return None if held is None else f"level {held.get('level')} {held.get('status')}"
    try:
        dashlib.wait_for(lambda: dismissed_or_reopened(served_status() or ""), UI_DEADLINE_S,
                         f"/api/alerts to have {alert_id} dismissed")
    except TimeoutError as e:
        failures.check(False, f"{e}: it has {served_status()}")
    print(f"alert actions: dismissed {alert_id} from the console", flush=True)
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--mozaiek", required=True, help="the built mozaiek binary")
    ap.add_argument("--chromedriver", default=shutil.which("chromedriver") or "chromedriver")
    ap.add_argument("--chromium", default=None,
                    help="the browser binary (default: what chromedriver finds)")
    ap.add_argument("--screenshot", default=None,
                    help="also save a PNG of the console with an alert and its entity open")
    args = ap.parse_args()

    # Debian's /usr/bin/chromium is a wrapper script; chromedriver wants the binary.
    chromium = args.chromium
    if chromium and Path("/usr/lib/chromium/chromium").exists() and \
            Path(chromium).resolve() == Path("/usr/bin/chromium"):
        chromium = "/usr/lib/chromium/chromium"

    started = time.monotonic()
    failures = Failures()
    work = Path(tempfile.mkdtemp(prefix="mozaiek-browser-"))
    driver = None
    try:
        with dashlib.demo_service(args.mozaiek, DEMO_SECONDS, work, demo_args=DEMO_ARGS) as base:
            driver = start_browser(args.chromedriver, chromium, work / "profile")
            try:
                run(args, base, driver, failures)
            except Exception as e:  # a timeout or a missing element: report with the page state
                failures.append(f"{type(e).__name__}: {e}")
                body = driver.find_element(By.TAG_NAME, "body").text[:3000]
                print(f"page text at failure:\n{body}", file=sys.stderr)
                print(f"browser log: {driver.get_log('browser')}", file=sys.stderr)
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(work, ignore_errors=True)

    return dashlib.report(failures, started, "the console shows live alerts, details, rules "
                          "and the audited entity view")


if __name__ == "__main__":
    sys.exit(main())
