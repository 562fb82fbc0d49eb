#!/usr/bin/env python3
"""The console's OpenID Connect login in a real headless Chromium, against a
real provider and the real authenticator.

Starts the test provider (tests/integration/oidc/oidc-provider.sh: npm's
oidc-provider on a free loopback port) and `mozaiek demo` with a config
whose service.auth.oidc.issuer names it, so the service authenticates every
request with the same Authenticator as `mozaiek run` (the demo's traffic
keeps alerts firing). Then, in Chromium:

- the page offers a login and shows no data before it; its
  Content-Security-Policy lets it connect to the issuer's origin and no other;
- `ana` (analyst) logs in on the provider's own login page (authorisation
  code + PKCE): the page names her and her roles, follows the live stream
  (the list grows without a reload), shows an alert's detail and, with a
  reason, its subject's entity view; every API request carried
  `Authorization: Bearer`, and the only requests to another origin went to
  the issuer;
- after logging out, `olga` (oversight) logs in: the page names her role and
  shows no alert list, no stream, no entity lookup, no rules; an entity
  lookup forced through the hidden form is refused by the service with 403
  and the page says so;
- neither login leaves a token in localStorage, sessionStorage or a cookie;
- the browser's console log holds no errors but that expected 403.

Usage: console_login_test.py --mozaiek PATH [--chromedriver PATH] [--chromium PATH]
"""

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from console_test import (ROOT, UI_DEADLINE_S, Failures, click, click_row, network_events,
                          shown_counts, start_browser, texts)

import dashlib  # noqa: E402  (console_test put dashboards/ on the path)
from selenium.webdriver.common.by import By  # noqa: E402

DEMO_SECONDS = 120          # the demo stops by itself should cleanup ever fail
DEMO_ARGS = ["--rate", "400", "--signals", "30000"]
LIVE_DEADLINE_S = 40
PROVIDER_SCRIPT = ROOT / "tests" / "integration" / "oidc" / "oidc-provider.sh"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.")


@contextlib.contextmanager
def oidc_provider(work: Path):
    """The test provider on a free loopback port (stopped on exit; its
    watchdog stops it should this process die). Yields the issuer URL."""
    workdir = work / "oidc"
    env = dict(os.environ, MOZAIEK_OIDC_OWNER_PID=str(os.getpid()))
    try:
        started = subprocess.run(["bash", str(PROVIDER_SCRIPT), "start", str(workdir),
                                  str(dashlib.free_port())],
                                 env=env, capture_output=True, text=True, timeout=120)
        if started.returncode != 0:
            raise RuntimeError(f"{PROVIDER_SCRIPT} start failed: {started.stderr[-2000:]}")
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(PROVIDER_SCRIPT), "stop", str(workdir)],
                       capture_output=True, timeout=60)


@contextlib.contextmanager
def authenticating_demo(mozaiek: str, issuer: str, work: Path):
    """`mozaiek demo` with service.auth.oidc.issuer = `issuer` on a free
    loopback port; waits for /readyz (public: /metrics needs a token now).
    Yields the base URL."""
    config = yaml.safe_load((ROOT / "config" / "mozaiek.yaml").read_text())
    config["service"]["auth"]["oidc"]["issuer"] = issuer
    config_path = work / "mozaiek.yaml"
    config_path.write_text(yaml.safe_dump(config))
    port = dashlib.free_port()
    log_path = work / "mozaiek-demo.log"
    demo = None
    try:
        with open(log_path, "w") as log:
            demo = subprocess.Popen(
                [mozaiek, "demo", "--config", str(config_path), "--duration", str(DEMO_SECONDS),
                 "--http", f"127.0.0.1:{port}", "--state-dir", str(work / "state"), *DEMO_ARGS],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=dashlib._die_with_parent)
        base = f"http://127.0.0.1:{port}"

        def ready():
            if demo.poll() is not None:
                raise RuntimeError(f"mozaiek demo exited with {demo.returncode}; log: "
                                   f"{log_path.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                return dashlib.http_get(base + "/readyz", timeout=2)[0] == 200
            return False
        dashlib.wait_for(ready, 60, "mozaiek demo's /readyz")
        yield base
    finally:
        dashlib._stop(demo)


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=15) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def shown(driver, element_id: str) -> bool:
    found = driver.find_elements(By.ID, element_id)
    return bool(found) and found[0].is_displayed()


def log_in(driver, base: str, user: str) -> None:
    """Clicks the console's login and signs in on the provider's own pages
    (login, then consent) until the browser is back on the console."""
    dashlib.wait_for(lambda: shown(driver, "login-button"), UI_DEADLINE_S, "the login button")
    driver.find_element(By.ID, "login-button").click()
    dashlib.wait_for(lambda: driver.find_elements(By.NAME, "login"), UI_DEADLINE_S,
                     "the provider's login page")
    driver.find_element(By.NAME, "login").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys("any-password")
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    def back_or_consent():
        if driver.current_url.startswith(base + "/"):
            return True
        buttons = driver.find_elements(By.CSS_SELECTOR, "form button[type=submit]")
        if buttons and "/interaction/" in driver.current_url and \
                not driver.find_elements(By.NAME, "login"):
            buttons[0].click()
        return False
    dashlib.wait_for(back_or_consent, UI_DEADLINE_S, f"the provider to send {user} back", 0.1)
    dashlib.wait_for(lambda: shown(driver, "who") or shown(driver, "login"), UI_DEADLINE_S,
                     "the console to finish the login")
    if not shown(driver, "who"):
        raise RuntimeError("login failed: " + driver.find_element(By.ID, "login-message").text)


def check_no_token_stored(driver, failures: Failures, who: str) -> None:
    stored = driver.execute_script(
        "const all = (s) => Object.keys(s).map((k) => [k, s.getItem(k)]);"
        "return JSON.stringify({local: all(localStorage), session: all(sessionStorage),"
        " cookie: document.cookie});")
    failures.check(not JWT.search(stored), f"a token is stored in the browser after {who}'s "
                   f"login: {stored[:200]}")
    kept = json.loads(stored)
    failures.check(not kept["local"] and not kept["session"],
                   f"the page keeps something in storage after {who}'s login: {list(kept)}")


def check_analyst(base: str, issuer: str, driver, failures: Failures) -> None:
    failures.check(driver.find_element(By.ID, "who-name").text == "ana",
                   f"the page names '{driver.find_element(By.ID, 'who-name').text}', not ana")
    failures.check(driver.find_element(By.ID, "who-roles").text == "analyst",
                   f"ana's roles shown as '{driver.find_element(By.ID, 'who-roles').text}'")
    failures.check(not shown(driver, "tab-audit"), "the audit tab is offered to an analyst")
    check_no_token_stored(driver, failures, "ana")

    dashlib.wait_for(lambda: driver.find_element(By.ID, "stream-state").text == "live",
                     UI_DEADLINE_S, "the console to follow the alert stream")
    dashlib.wait_for(lambda: not driver.find_element(By.ID, "alerts-empty")
                     .get_attribute("textContent").startswith("Loading"),
                     UI_DEADLINE_S, "the console to load /api/alerts")
    driver.execute_script("window.__mozaiekNoReload = true;")
    _, held_at_load = shown_counts(driver)
    grown = dashlib.wait_for(lambda: shown_counts(driver)[1] > held_at_load and shown_counts(driver),
                             LIVE_DEADLINE_S, "a live alert to reach ana's list")
    print(f"ana: the list held {held_at_load} alerts after load, {grown[1]} later", flush=True)
    failures.check(driver.execute_script("return window.__mozaiekNoReload === true;"),
                   "the page reloaded while waiting for live alerts")

    # Detail and entity view of the first listed alert about an entity (the
    # test has no token of its own: it finds one by opening rows).
    alert_id = None
    for row_id in [r.get_attribute("data-alert-id")
                   for r in driver.find_elements(By.CSS_SELECTOR, "#alerts-body tr")]:
        click_row(driver, row_id)
        if row_id in driver.find_element(By.ID, "detail-fields").text and \
                driver.find_elements(By.CSS_SELECTOR, "#detail-fields button") and \
                texts(driver, "#detail-contributions .signal-id"):
            alert_id = row_id
            break
    if not failures.check(alert_id is not None, "no listed alert with an entity to look up"):
        return
    click(driver, "#detail-fields button")
    reason = "browser test: login as analyst"
    driver.find_element(By.ID, "entity-reason").send_keys(reason)
    driver.find_element(By.ID, "entity-submit").click()
    dashlib.wait_for(lambda: shown(driver, "entity-result") or shown(driver, "entity-message"),
                     UI_DEADLINE_S + 20, "the entity view to answer")
    if failures.check(shown(driver, "entity-result"),
                      "ana's entity lookup not shown: " +
                      driver.find_element(By.ID, "entity-message").text):
        failures.check(alert_id in driver.find_element(By.ID, "entity-alerts").text,
                       f"ana's entity view does not list alert {alert_id}")

    requests, status = network_events(driver.get_log("performance"), base + "/")
    foreign = sorted({r["url"] for r in requests if not r["url"].startswith(base + "/")
                      and not r["url"].startswith(issuer + "/")})
    failures.check(not foreign, f"the page made requests beyond the service and the issuer: {foreign}")
    to_issuer = {r["url"].split("?")[0] for r in requests if r["url"].startswith(issuer + "/")}
    failures.check(issuer + "/token" in to_issuer,
                   f"the page never exchanged the code at the token endpoint: {to_issuer}")
    calls = [r for r in requests if r["url"].startswith(base + "/api/")
             and not r["url"].startswith(base + "/api/auth/config")]
    paths = {r["url"][len(base):].split("?")[0] for r in calls}
    for p in ("/api/whoami", "/api/alerts", "/api/alerts/stream"):
        failures.check(p in paths, f"ana's page never requested {p}")
    unsigned = [r["url"] for r in calls
                if not any(k.lower() == "authorization" and v.startswith("Bearer ey")
                           for k, v in r["headers"].items())]
    failures.check(not unsigned, f"API requests without a bearer token: {unsigned}")
    refused = [(r["url"], status.get(r["id"])) for r in calls
               if status.get(r["id"]) in (401, 403)]
    failures.check(not refused, f"ana's requests refused: {refused}")


def check_oversight(base: str, driver, failures: Failures) -> None:
    failures.check(driver.find_element(By.ID, "who-name").text == "olga",
                   f"the page names '{driver.find_element(By.ID, 'who-name').text}', not olga")
    failures.check(driver.find_element(By.ID, "who-roles").text == "oversight",
                   f"olga's roles shown as '{driver.find_element(By.ID, 'who-roles').text}'")
    check_no_token_stored(driver, failures, "olga")
    for hidden_id in ("alerts-list", "stream-health", "open-entity", "tab-rules", "tab-alerts",
                      "tab-audit"):
        failures.check(not shown(driver, hidden_id), f"olga (oversight) is shown #{hidden_id}")
    failures.check(shown(driver, "no-view"), "olga is not told her roles open no view")
    failures.check(not driver.find_elements(By.CSS_SELECTOR, "#alerts-body tr[data-alert-id]"),
                   "olga's page lists alerts")

    # Forced: the hidden entity form, submitted anyway, reaches the service.
    driver.execute_script("document.getElementById('app').hidden = false;"
                          "document.getElementById('alerts-view').hidden = false;"
                          "document.getElementById('entity').hidden = false;")
    driver.find_element(By.ID, "entity-key").send_keys("AB-12-CD")
    driver.find_element(By.ID, "entity-reason").send_keys("browser test: forced")
    driver.find_element(By.ID, "entity-submit").click()
    dashlib.wait_for(lambda: shown(driver, "entity-message"), UI_DEADLINE_S,
                     "the page to answer olga's forced lookup")
    message = driver.find_element(By.ID, "entity-message").text
    failures.check("do not allow" in message and "oversight" in message,
                   f"the forced lookup shows '{message}', not a refusal by role")
    failures.check(not shown(driver, "entity-result"), "an entity was shown to olga")
    requests, status = network_events(driver.get_log("performance"), base + "/")
    lookups = [status.get(r["id"]) for r in requests if "/api/entities/" in r["url"]]
    failures.check(lookups == [403], f"olga's forced lookup was answered {lookups}, not [403]")
    alerts = [status.get(r["id"]) for r in requests
              if r["url"].startswith(base + "/api/alerts")]
    failures.check(not alerts, f"olga's page asked for alerts: {alerts}")


def run(base: str, issuer: str, driver, failures: Failures) -> None:
    failures.check(status_of(base + "/api/alerts") == 401, "/api/alerts answers without a token")
    csp = urllib.request.urlopen(base + "/", timeout=15).headers["Content-Security-Policy"]
    failures.check(f"connect-src 'self' {issuer};" in csp,
                   f"the page's policy does not allow exactly the issuer: {csp}")

    driver.get(base + "/")
    dashlib.wait_for(lambda: shown(driver, "login"), UI_DEADLINE_S, "the login screen")
    failures.check(not shown(driver, "app") and not shown(driver, "who"),
                   "the page shows the console before anyone logged in")
    failures.check(issuer in driver.find_element(By.ID, "login").text,
                   "the login screen does not name the provider")

    log_in(driver, base, "ana")
    check_analyst(base, issuer, driver, failures)

    driver.find_element(By.ID, "logout").click()
    dashlib.wait_for(lambda: shown(driver, "login"), UI_DEADLINE_S, "the login screen after log-out")
    failures.check(not shown(driver, "app"), "the console stays visible after logging out")
    log_in(driver, base, "olga")
    check_oversight(base, driver, failures)

    # Chromium logs every 4xx answer as a network error; the forced lookup's
    # is expected. The provider's own pages (and the web fonts they ask
    # for) are not the console's: the console's requests beyond the service
    # are checked above from the network log, by the document that made them.
    problems = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")
                and not (e["source"] == "network" and not e["message"].startswith(base + "/"))
                and not (e["source"] == "network" and "/api/entities/" in e["message"]
                         and "403" in e["message"])]
    failures.check(not problems, f"browser console: {problems}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--mozaiek", required=True, help="the built mozaiek binary")
    ap.add_argument("--chromedriver", default=shutil.which("chromedriver") or "chromedriver")
    ap.add_argument("--chromium", default=None)
    args = ap.parse_args()
    chromium = args.chromium
    if chromium and Path("/usr/lib/chromium/chromium").exists() and \
            Path(chromium).resolve() == Path("/usr/bin/chromium"):
        chromium = "/usr/lib/chromium/chromium"

    started = time.monotonic()
    failures = Failures()
    work = Path(tempfile.mkdtemp(prefix="mozaiek-browser-login-"))
    driver = None
    try:
        with oidc_provider(work) as issuer, authenticating_demo(args.mozaiek, issuer, work) as base:
            driver = start_browser(args.chromedriver, chromium, work / "profile")
            try:
                run(base, issuer, driver, failures)
            except Exception as e:  # a timeout or a missing element: report with the page state
                failures.append(f"{type(e).__name__}: {e}")
                print(f"page at failure ({driver.current_url}):\n"
                      f"{driver.find_element(By.TAG_NAME, 'body').text[:3000]}", file=sys.stderr)
                print(f"browser log: {driver.get_log('browser')}", file=sys.stderr)
                log = work / "oidc" / "provider.log"
                if log.exists():
                    print(f"provider log:\n{log.read_text()[-3000:]}", file=sys.stderr)
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(work, ignore_errors=True)

    return dashlib.report(failures, started, "the console logs in through the provider, shows "
                          "the analyst her views and the oversight role none, keeps no token")


if __name__ == "__main__":
    sys.exit(main())
