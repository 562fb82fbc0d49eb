#!/usr/bin/env python3
"""Every dashboard query and recording rule, run against a real Prometheus.

Starts `mozaiek demo` (embedded Kafka cluster, synthetic partner traffic) and
Debian's `prometheus` on free loopback ports, the latter scraping the former
every second with the shipped scrape config and rule files. mozaiek serves
HTTPS and grants /metrics only to the scraper's client certificate
(service.tls with a client CA, service.auth.mtls.principals; the certificates
are made here with the openssl CLI); Prometheus scrapes with `scheme: https`
and that certificate, and a second job without it must be down (up == 0,
refused with 401) while the credentialled one is up. After a few
scrapes every PromQL expression of every dashboard panel, dashboard variable
and recording rule goes through /api/v1/query: each must parse and return at
least one series. Alert expressions must parse (they return nothing while all
is well). Prometheus must have loaded every rule and evaluated it without
error, and every metric a dashboard names must appear in mozaiek's /metrics.

Usage: real_prometheus_test.py --mozaiek PATH/TO/mozaiek
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "dashboards"))

import dashlib  # noqa: E402

SCRAPES_BEFORE_QUERYING = 15   # one per second; 20 s rate windows then hold enough samples
DATA_DEADLINE_S = 60           # how long a query may wait for its series to appear
DEMO_SECONDS = 240             # the demo stops by itself should cleanup ever fail


def series_count(result: dict) -> int:
    data = result.get("data", {})
    r = data.get("result", [])
    return len(r) if data.get("resultType") in ("vector", "matrix") else 1


def nonzero(series: dict) -> bool:
    v = series.get("value", [0, "0"])[1]
    return v not in ("0", "NaN", "-0")


def credential_checks(prom: dashlib.Prometheus, metrics_url: str, pki: dashlib.TestPki) -> list[str]:
    failures = []
    bare = dashlib.UNCREDENTIALLED_JOB
    if not metrics_url.startswith("https://"):
        failures.append(f"mozaiek serves {metrics_url}, not HTTPS")
    r = prom.query(f'min_over_time(up{{job="mozaiek"}}[5m])')
    if not (series_count(r) == 1 and r["data"]["result"][0]["value"][1] == "1"):
        failures.append(f"the scrape with the client certificate was not up on every scrape: {r}")
    r = prom.query(f'max_over_time(up{{job="{bare}"}}[5m])')
    if not (series_count(r) == 1 and r["data"]["result"][0]["value"][1] == "0"):
        failures.append(f"the scrape without a client certificate was not down on every scrape: {r}")
    targets = prom._get("/api/v1/targets").get("data", {}).get("activeTargets", [])
    errors = [t.get("lastError", "") for t in targets if t.get("labels", {}).get("job") == bare]
    if len(errors) != 1 or "401" not in errors[0]:
        failures.append(f"job {bare}: expected one target refused with 401, got {errors}")
    status, _ = dashlib.http_get(metrics_url, context=pki.context(client_certificate=False))
    if status != 401:
        failures.append(f"GET /metrics over HTTPS without a client certificate: {status}, not 401")
    return failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--mozaiek", required=True, help="the built mozaiek binary")
    args = ap.parse_args()

    started = time.monotonic()
    failures: list[str] = []
    pki_dir = tempfile.TemporaryDirectory(prefix="mozaiek-pki-")
    pki = dashlib.make_test_pki(Path(pki_dir.name))
    with pki_dir, dashlib.local_stack(args.mozaiek, DEMO_SECONDS, pki=pki) as (metrics_url, prom):
        dashlib.wait_for(
            lambda: series_count(prom.query(f'count_over_time(up{{job="mozaiek"}}[5m]) >= {SCRAPES_BEFORE_QUERYING}')) > 0,
            60, f"{SCRAPES_BEFORE_QUERYING} scrapes of mozaiek")

        # The credential matters: over HTTPS, the scrape with the client
        # certificate is up and has been all along, the one without is down
        # because mozaiek refuses it (401), not for a TLS or network fault.
        failures += credential_checks(prom, metrics_url, pki)

        # Every metric a dashboard names is served by the running service.
        status, body = dashlib.http_get(metrics_url, context=pki.context(client_certificate=True))
        served = dashlib.scraped_names(body) | dashlib.recorded_names() | {"up"}
        for name, d in dashlib.load_dashboards().items():
            for q in list(dashlib.dashboard_queries(name, d)) + list(dashlib.variable_queries(name, d)):
                missing = dashlib.metric_names(q.expr) - served
                if missing:
                    failures.append(f"{q.origin}, panel '{q.title}': not in /metrics: {sorted(missing)}")

        # Rules loaded and evaluated without error.
        rules = prom._get("/api/v1/rules")
        loaded = [r for g in rules.get("data", {}).get("groups", []) for r in g["rules"]]
        expected = list(dashlib.rule_queries())
        if len(loaded) != len(expected):
            failures.append(f"prometheus loaded {len(loaded)} rules, the rule files hold {len(expected)}")
        for r in loaded:
            if r.get("health") == "err":
                failures.append(f"rule {r['name']}: evaluation error: {r.get('lastError')}")

        # Every query: parses, and (except alerts) returns at least one series.
        pending = []
        for name, d in dashlib.load_dashboards().items():
            values = dashlib.variable_values(d)
            for q in list(dashlib.dashboard_queries(name, d)) + list(dashlib.variable_queries(name, d)):
                pending.append((q, dashlib.substitute(q.expr, values)))
        pending += [(q, q.expr) for q in dashlib.rule_queries()]
        total = len(pending)
        print(f"{total} expressions to run", flush=True)

        deadline = time.monotonic() + DATA_DEADLINE_S
        flat = []  # series present, but every value 0 or NaN: reported, not failed
        while pending:
            still = []
            for q, expr in pending:
                r = prom.query(expr)
                if r.get("status") != "success":
                    failures.append(f"{q.origin}, {q.ref} '{q.title}': does not run: "
                                    f"{r.get('error')}\n    {expr}")
                elif q.ref == "alert":
                    continue
                elif series_count(r) > 0:
                    if not any(nonzero(x) for x in r["data"]["result"]):
                        flat.append(f"{q.origin}, '{q.title}'")
                    continue
                else:
                    still.append((q, expr))
            pending = still
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(1)
        for q, expr in pending:
            what = "panel" if q.origin.startswith("dashboard") else "recording rule"
            failures.append(f"{q.origin}, {what} '{q.title}' ({q.ref}): no series\n    {expr}")

    if flat:
        print(f"{len(flat)} queries returned only zero or NaN values (series exist; no events yet):")
        for f in flat:
            print("  " + f)
    return dashlib.report(failures, started,
                          f"{total} expressions returned series from a real Prometheus")


if __name__ == "__main__":
    sys.exit(main())
