"""Shared helpers for mozaiek's dashboards and Prometheus rules.

Used by generate.py (nothing), render.py and the tests under tests/dashboards/:
reading the dashboard JSON and rule files, pulling every PromQL expression out
of them, substituting Grafana's variables, naming the metrics an expression
reads, and running a local stack (mozaiek demo + Debian's prometheus) on
loopback for the real-Prometheus test and the pictures.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import random
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import yaml

HERE = Path(__file__).resolve().parent
GRAFANA_DIR = HERE / "grafana"
PROMETHEUS_DIR = HERE / "prometheus"
RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
SCRAPE_CONFIG = PROMETHEUS_DIR / "prometheus.yml"

# Values Grafana would put in for its built-in variables when a query runs.
# Windows are chosen for a Prometheus scraping every second that has seen
# about a minute of data: every range still holds two or more samples.
BUILTIN_VALUES = {
    "__rate_interval": "20s",
    "__interval": "5s",
    "__range": "5m",
}


# ---------------------------------------------------------------- dashboards

@dataclass(frozen=True)
class Query:
    origin: str  # "dashboard <file>" or "rules <file>"
    title: str   # panel title or rule name
    ref: str     # target refId or "record"/"alert"
    expr: str


def load_dashboards() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(GRAFANA_DIR.glob("*.json"))}


def panels(dashboard: dict) -> Iterator[dict]:
    """Every panel, including those nested in collapsed rows."""
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])


def dashboard_queries(name: str, dashboard: dict) -> Iterator[Query]:
    for p in panels(dashboard):
        for t in p.get("targets", []):
            if t.get("expr"):
                yield Query(f"dashboard {name}", p.get("title", "?"), t.get("refId", "?"), t["expr"])


def variable_queries(name: str, dashboard: dict) -> Iterator[Query]:
    """label_values(metric, label) of the query variables, as instant selectors."""
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        m = re.fullmatch(r"\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*", q)
        if m:
            yield Query(f"dashboard {name}", f"variable ${v['name']}", "var", m.group(1))


def variable_values(dashboard: dict) -> dict[str, str]:
    """Every dashboard variable set to "all values": the regex .* for query
    variables (their "All" value), the first option for custom ones."""
    values = dict(BUILTIN_VALUES)
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            values[v["name"]] = v.get("allValue") or ".*"
        elif v.get("type") in ("custom", "interval"):
            opts = v.get("options") or []
            values[v["name"]] = (opts[0]["value"] if opts else v.get("query", "").split(",")[0])
        elif v.get("type") == "datasource":
            values[v["name"]] = "prometheus"
    return values


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replaces $name, ${name} and [[name]] like Grafana; unknown names stay."""
    def repl(m: re.Match) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        return values.get(name, m.group(0))
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]", repl, expr)


# --------------------------------------------------------------------- rules

def load_rule_groups() -> dict[str, list[dict]]:
    return {p.name: yaml.safe_load(p.read_text())["groups"] for p in RULE_FILES}


def rule_queries() -> Iterator[Query]:
    for fname, groups in load_rule_groups().items():
        for g in groups:
            for r in g["rules"]:
                kind = "record" if "record" in r else "alert"
                yield Query(f"rules {fname}", r[kind], kind, r["expr"])


def recorded_names() -> set[str]:
    return {q.title for q in rule_queries() if q.ref == "record"}


# --------------------------------------------------------- metric names used

_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan", "atan2",
}


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects (not functions, labels or keywords)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)          # string literals
    s = re.sub(r"\{[^}]*\}", "", s)                         # label matchers
    s = re.sub(r"\[[^\]]*\]", "", s)                        # ranges, subqueries
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?", s):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in _KEYWORDS:
            continue
        names.add(word)
    return names


_BUILDERS = re.compile(r"Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\(\s*\"([a-z_:][a-z0-9_:]*)\"")


def exported_names(source_root: Path) -> set[str]:
    """Every metric family mozaiek's code registers with prometheus-cpp, with
    the series names a histogram adds."""
    names: set[str] = set()
    for folder in ("stream", "operators", "connectors"):
        for path in (source_root / folder).rglob("*.cc"):
            for kind, name in _BUILDERS.findall(path.read_text()):
                names.add(name)
                if kind == "Histogram":
                    names.update({name + "_bucket", name + "_sum", name + "_count"})
                if kind == "Summary":
                    names.update({name + "_sum", name + "_count"})
    return names


def scraped_names(metrics_text: str) -> set[str]:
    names = set()
    for line in metrics_text.splitlines():
        if line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


# ------------------------------------------------------------ HTTP, Prometheus

def http_get(url: str, timeout: float = 10.0,
             context: ssl.SSLContext | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Prometheus:
    """A client for the query API of one Prometheus server."""

    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")

    def _get(self, path: str, **params) -> dict:
        status, body = http_get(f"{self.base}{path}?{urllib.parse.urlencode(params)}", timeout=30)
        try:
            return json.loads(body)
        except json.JSONDecodeError:
            return {"status": "error", "error": f"HTTP {status}: {body[:200]}"}

    def query(self, expr: str, at: float | None = None) -> dict:
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self._get("/api/v1/query", **params)

    def query_range(self, expr: str, start: float, end: float, step: float) -> dict:
        return self._get("/api/v1/query_range", query=expr, start=f"{start:.3f}",
                         end=f"{end:.3f}", step=f"{step:g}")

    def targets_up(self) -> int:
        r = self._get("/api/v1/targets")
        active = r.get("data", {}).get("activeTargets", [])
        return sum(1 for t in active if t.get("health") == "up")


# ------------------------------------------------------------- test certificates

# The subject mozaiek sees for the scraper's client certificate (OpenSSL's
# one-line form, as service.auth.mtls.principals takes it).
SCRAPER_SUBJECT = "/O=mozaiek-test/CN=prometheus"
# The scrape job that presents no client certificate (the test expects it down).
UNCREDENTIALLED_JOB = "mozaiek-without-client-certificate"


@dataclass(frozen=True)
class TestPki:
    """A throwaway CA, a server certificate for 127.0.0.1 and localhost, and
    a client certificate for SCRAPER_SUBJECT, all signed by the CA (PEM paths)."""
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def context(self, client_certificate: bool) -> ssl.SSLContext:
        """A client TLS context trusting the CA, with or without the client certificate."""
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if client_certificate:
            ctx.load_cert_chain(str(self.client_cert), str(self.client_key))
        return ctx


def make_test_pki(directory: Path) -> TestPki:
    """Makes the certificates of a TestPki in `directory` with the openssl CLI
    (P-256 keys, valid one day)."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    def issue(name: str, subject: str, extensions: str) -> None:
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
        (directory / f"{name}.ext").write_text(extensions)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "1", "-extfile", f"{name}.ext", "-out", f"{name}.crt")

    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/O=mozaiek-test/CN=test CA")
    issue("server", "/O=mozaiek-test/CN=localhost",
          "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    issue("client", SCRAPER_SUBJECT, "extendedKeyUsage=clientAuth\n")
    return TestPki(directory / "ca.crt", directory / "server.crt", directory / "server.key",
                   directory / "client.crt", directory / "client.key")


def mtls_demo_config(pki: TestPki, path: Path) -> Path:
    """Writes to `path` the shipped config/mozaiek.yaml with HTTPS
    (service.tls with the client CA) and the scraper's certificate subject
    granted the metrics role (service.auth.mtls.principals); returns `path`."""
    cfg = yaml.safe_load((HERE.parent / "config" / "mozaiek.yaml").read_text())
    service = cfg.setdefault("service", {})
    service["tls"] = {"certificate": str(pki.server_cert), "key": str(pki.server_key),
                      "client_ca": str(pki.ca)}
    service.setdefault("auth", {}).setdefault("mtls", {})["principals"] = [
        {"subject": SCRAPER_SUBJECT, "name": "prometheus", "roles": ["metrics"]}]
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


# ------------------------------------------------------------- a local stack

def free_port() -> int:
    """A loopback port free now, from below the kernel's ephemeral range
    (32768-60999), so no outgoing connection can take it before the child
    process binds it."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, 32700)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port")


def _die_with_parent() -> None:
    """Runs in the child: SIGKILL it when this process dies, however it dies."""
    os.setsid()
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_for(pred, deadline_s: float, what: str, interval_s: float = 0.25):
    end = time.monotonic() + deadline_s
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= end:
            raise TimeoutError(f"timed out after {deadline_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


def report(failures: list[str], started: float, ok_message: str) -> int:
    """Prints how a test script ended (each failure, or `ok_message`) with
    the time since `started` (time.monotonic()); returns its exit code."""
    elapsed = time.monotonic() - started
    if failures:
        print(f"FAILED ({len(failures)} problems, {elapsed:.0f} s):", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        return 1
    print(f"OK: {ok_message} ({elapsed:.0f} s)")
    return 0


def prometheus_config(mozaiek_target: str, scrape_interval: str, rule_files: list[Path],
                      pki: TestPki | None = None) -> dict:
    """The shipped scrape config, pointed at one target with a short interval.
    With `pki`, the job scrapes over HTTPS with the client certificate, and a
    second job (UNCREDENTIALLED_JOB) scrapes the same target without one."""
    cfg = yaml.safe_load(SCRAPE_CONFIG.read_text())
    cfg["global"]["scrape_interval"] = scrape_interval
    cfg["global"]["evaluation_interval"] = scrape_interval
    cfg["rule_files"] = [str(p) for p in rule_files]
    cfg.pop("alerting", None)
    jobs = [j for j in cfg["scrape_configs"] if j["job_name"] == "mozaiek"]
    if not jobs:
        raise ValueError(f"{SCRAPE_CONFIG}: no scrape job named mozaiek")
    job = jobs[0]
    job["scrape_interval"] = scrape_interval
    job["scrape_timeout"] = scrape_interval
    job.pop("file_sd_configs", None)
    job["static_configs"] = [{"targets": [mozaiek_target], "labels": {"instance": "demo"}}]
    cfg["scrape_configs"] = [job]
    if pki:
        job["scheme"] = "https"
        job["tls_config"] = {"ca_file": str(pki.ca), "cert_file": str(pki.client_cert),
                             "key_file": str(pki.client_key)}
        bare = {k: v for k, v in job.items() if k != "tls_config"}
        bare["job_name"] = UNCREDENTIALLED_JOB
        bare["tls_config"] = {"ca_file": str(pki.ca)}
        cfg["scrape_configs"].append(bare)
    return cfg


@contextlib.contextmanager
def demo_service(mozaiek_binary: str, demo_seconds: int, work: Path, log_dir: Path | None = None,
                 demo_args: list[str] | None = None, pki: TestPki | None = None) -> Iterator[str]:
    """Starts `mozaiek demo` on a free loopback port with its state under
    `work`, waits until it serves /metrics, and stops it on exit, also on
    errors (the kernel kills it if this process dies first). Yields its base
    URL (http://127.0.0.1:PORT). With `pki` it serves HTTPS and grants
    /metrics to the client certificate only (mtls_demo_config), and the URL
    is https. Used by the dashboard and browser tests."""
    logs = log_dir or work
    demo = None
    try:
        port = free_port()
        demo_log = open(logs / "mozaiek-demo.log", "w")
        tls_args = ["--config", str(mtls_demo_config(pki, work / "mozaiek.yaml"))] if pki else []
        demo = subprocess.Popen(
            [mozaiek_binary, "demo", "--duration", str(demo_seconds),
             "--http", f"127.0.0.1:{port}", "--state-dir", str(work / "state"),
             *tls_args, *(demo_args or [])],
            stdout=demo_log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        base_url = f"{'https' if pki else 'http'}://127.0.0.1:{port}"
        context = pki.context(client_certificate=True) if pki else None

        def demo_ready():
            if demo.poll() is not None:
                raise RuntimeError(f"mozaiek demo exited with {demo.returncode}; log: "
                                   f"{(logs / 'mozaiek-demo.log').read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                return http_get(f"{base_url}/metrics", timeout=2, context=context)[0] == 200
            return False
        wait_for(demo_ready, 60, "mozaiek demo's /metrics")
        yield base_url
    finally:
        _stop(demo)


@contextlib.contextmanager
def local_stack(mozaiek_binary: str, demo_seconds: int, log_dir: Path | None = None,
                demo_args: list[str] | None = None,
                pki: TestPki | None = None) -> Iterator[tuple[str, Prometheus]]:
    """Starts `mozaiek demo` and a Prometheus scraping it every second, both on
    free loopback ports in a temporary directory; stops both on exit, also on
    errors (and the kernel kills them if this process dies first).
    With `pki`, over mutual TLS (see demo_service and prometheus_config).
    Yields (mozaiek metrics URL, Prometheus client)."""
    prom_bin = shutil.which("prometheus")
    if not prom_bin:
        raise FileNotFoundError("Debian's prometheus is not installed (apt-get install prometheus)")
    work = Path(tempfile.mkdtemp(prefix="mozaiek-prom-"))
    logs = log_dir or work
    prom = None
    try:
        with demo_service(mozaiek_binary, demo_seconds, work, logs, demo_args, pki) as base_url:
            mtarget = base_url.split("://", 1)[1]
            pport = free_port()
            cfg_path = work / "prometheus.yml"
            cfg_path.write_text(yaml.safe_dump(prometheus_config(mtarget, "1s", RULE_FILES, pki)))
            prom_log = open(logs / "prometheus.log", "w")
            prom = subprocess.Popen(
                [prom_bin, f"--config.file={cfg_path}", f"--storage.tsdb.path={work / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{pport}", "--storage.tsdb.retention.time=1h",
                 "--web.enable-lifecycle"],
                stdout=prom_log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
            client = Prometheus(f"http://127.0.0.1:{pport}")

            def prom_ready():
                if prom.poll() is not None:
                    raise RuntimeError(f"prometheus exited with {prom.returncode}; log: "
                                       f"{(logs / 'prometheus.log').read_text()[-2000:]}")
                with contextlib.suppress(OSError):
                    return client.targets_up() == 1
                return False
            wait_for(prom_ready, 60, "prometheus to scrape mozaiek")
            try:
                yield f"{base_url}/metrics", client
            finally:
                _stop(prom)
    finally:
        _stop(prom)
        shutil.rmtree(work, ignore_errors=True)
