#!/usr/bin/env python3
"""Static checks of the Grafana dashboards and Prometheus rules in dashboards/.

Every dashboard is valid JSON of a current schema, panel ids are unique,
every datasource reference is the ${datasource} variable (no hard-coded uid),
every panel has a description and a unit, and every metric a query or
recording rule names is one mozaiek's code registers or a recording rule
records. The set of exported metrics is read from the code (the
prometheus-cpp builders), so it cannot drift from what /metrics serves.
"""

import json
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "dashboards"))

import dashlib  # noqa: E402
import yaml  # noqa: E402

DS_REF = {"type": "prometheus", "uid": "${datasource}"}
GRAFANA_BUILTIN = {"type": "grafana", "uid": "-- Grafana --"}
MIN_SCHEMA_VERSION = 36  # Grafana 9 and later
PROMETHEUS_BUILTIN = {"up"}


def datasource_refs(node, path="$"):
    """(json path, value) of every "datasource" key anywhere in the document."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "datasource":
                yield f"{path}.{k}", v
            yield from datasource_refs(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from datasource_refs(v, f"{path}[{i}]")


class MetricNameExtraction(unittest.TestCase):
    """The checks below rely on this; it must see through PromQL syntax."""

    def test_names_functions_labels_and_keywords_apart(self):
        expr = ('histogram_quantile(0.9, sum by (source, le) (rate(a_bucket{x="y", z=~"$v"}[5m]))) '
                '/ on (source) group_left b:rec:rate1m and ignoring(le) c offset 1d > bool 0')
        self.assertEqual(dashlib.metric_names(expr), {"a_bucket", "b:rec:rate1m", "c"})

    def test_string_contents_are_not_names(self):
        self.assertEqual(dashlib.metric_names('count(d{rule="mob_spike"}) or vector(0)'), {"d"})

    def test_exported_names_come_from_the_code(self):
        names = dashlib.exported_names(ROOT)
        self.assertIn("mozaiek_records_in_total", names)
        self.assertIn("mozaiek_processing_latency_seconds_bucket", names)
        self.assertNotIn("mozaiek_processing_latency_seconds_total", names)


class Dashboards(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dashboards = dashlib.load_dashboards()
        cls.exported = dashlib.exported_names(ROOT)
        cls.recorded = dashlib.recorded_names()
        cls.known = cls.exported | cls.recorded | PROMETHEUS_BUILTIN

    def test_the_four_dashboards_exist(self):
        self.assertEqual(sorted(self.dashboards), ["chain-oversight.json", "feedback-latency.json",
                                                   "missing-persons.json", "pipeline-health.json"])

    def test_identity_and_schema(self):
        uids = [d.get("uid") for d in self.dashboards.values()]
        self.assertEqual(len(uids), len(set(uids)), "dashboard uids must be unique")
        for name, d in self.dashboards.items():
            with self.subTest(dashboard=name):
                self.assertTrue(d.get("uid") and d.get("title"))
                self.assertGreaterEqual(d.get("schemaVersion", 0), MIN_SCHEMA_VERSION)
                self.assertIsNone(d.get("id"), "an exported dashboard carries no database id")

    def test_panel_ids_unique(self):
        for name, d in self.dashboards.items():
            ids = [p.get("id") for p in dashlib.panels(d)]
            with self.subTest(dashboard=name):
                self.assertNotIn(None, ids)
                dupes = sorted({i for i in ids if ids.count(i) > 1})
                self.assertEqual(dupes, [], f"{name}: duplicate panel ids")

    def test_datasource_is_the_variable_everywhere(self):
        for name, d in self.dashboards.items():
            variables = {v["name"]: v for v in d["templating"]["list"]}
            with self.subTest(dashboard=name, what="variable"):
                self.assertIn("datasource", variables)
                self.assertEqual(variables["datasource"]["type"], "datasource")
                self.assertEqual(variables["datasource"]["query"], "prometheus")
            for path, ref in datasource_refs(d):
                with self.subTest(dashboard=name, path=path):
                    if path.startswith("$.annotations"):
                        self.assertEqual(ref, GRAFANA_BUILTIN)
                    else:
                        self.assertEqual(ref, DS_REF, "hard-coded or missing datasource")

    def test_every_panel_described_with_unit_and_queries(self):
        for name, d in self.dashboards.items():
            for p in dashlib.panels(d):
                if p["type"] == "row":
                    continue
                with self.subTest(dashboard=name, panel=p.get("title")):
                    self.assertGreater(len(p.get("description", "")), 20)
                    self.assertTrue(p["fieldConfig"]["defaults"].get("unit"))
                    self.assertIn("thresholds", p["fieldConfig"]["defaults"])
                    self.assertTrue(p.get("targets"), "panel without a query")
                    for t in p["targets"]:
                        self.assertEqual(t.get("datasource"), DS_REF)
                        self.assertTrue(t.get("expr") and t.get("refId"))
                    refs = [t["refId"] for t in p["targets"]]
                    self.assertEqual(len(refs), len(set(refs)), "duplicate refIds")

    def test_every_metric_named_is_exported_or_recorded(self):
        for name, d in self.dashboards.items():
            queries = list(dashlib.dashboard_queries(name, d)) + list(dashlib.variable_queries(name, d))
            for q in queries:
                with self.subTest(dashboard=name, panel=q.title, expr=q.expr):
                    names = dashlib.metric_names(q.expr)
                    self.assertTrue(names, "query names no metric")
                    self.assertEqual(names - self.known, set(), "metrics mozaiek does not export")

    def test_recording_rules_read_exported_metrics(self):
        for q in dashlib.rule_queries():
            with self.subTest(rule=q.title):
                self.assertEqual(dashlib.metric_names(q.expr) - self.known, set())

    def test_every_recorded_series_is_used(self):
        used = set()
        for name, d in self.dashboards.items():
            for q in dashlib.dashboard_queries(name, d):
                used |= dashlib.metric_names(q.expr)
        for q in dashlib.rule_queries():
            if q.ref == "alert":
                used |= dashlib.metric_names(q.expr)
        self.assertEqual(self.recorded - used, set(), "recording rules nobody reads")

    def test_every_alert_has_firing_and_quiet_unit_tests(self):
        firing, quiet = set(), set()
        for path in sorted((ROOT / "dashboards/prometheus/tests").glob("*.test.yml")):
            for t in yaml.safe_load(path.read_text())["tests"]:
                for a in t.get("alert_rule_test", []):
                    (firing if a.get("exp_alerts") else quiet).add(a["alertname"])
        alerts = {q.title for q in dashlib.rule_queries() if q.ref == "alert"}
        self.assertEqual(alerts - firing, set(), "alerts never tested firing")
        self.assertEqual(alerts - quiet, set(), "alerts never tested staying quiet")

    def test_provisioning_points_at_the_dashboards(self):
        prov = (ROOT / "dashboards/provisioning/dashboards/mozaiek.yaml").read_text()
        self.assertIn("options:", prov)
        ds = (ROOT / "dashboards/provisioning/datasources/prometheus.yaml").read_text()
        self.assertIn("type: prometheus", ds)


if __name__ == "__main__":
    unittest.main(verbosity=2)
