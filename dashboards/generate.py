#!/usr/bin/env python3
"""Writes mozaiek's Grafana dashboards (dashboards/grafana/*.json).

The panels are declared here once, compactly; the JSON files Grafana loads
are generated from them and committed. After changing a panel run
`dashboards/generate.py`; `dashboards/generate.py --check` (run by ctest)
fails when the committed JSON differs from what this script writes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "grafana"
SCHEMA_VERSION = 39  # Grafana 11
DS = {"type": "prometheus", "uid": "${datasource}"}
DAY = 86400


# ------------------------------------------------------------------ builders

def target(expr: str, legend: str = "", **extra) -> dict:
    t = {"datasource": DS, "expr": expr, "legendFormat": legend or "__auto", "range": True}
    t.update(extra)
    return t


def steps(*pairs) -> dict:
    """thresholds: steps("green", None, "orange", 10, "red", 50)."""
    it = iter(pairs)
    return {"mode": "absolute",
            "steps": [{"color": c, "value": v} for c, v in zip(it, it)]}


NO_THRESHOLDS = steps("green", None)


def panel(kind: str, title: str, description: str, targets: list[dict], *, unit: str = "short",
          thresholds: dict = NO_THRESHOLDS, w: int = 12, h: int = 8, decimals=None,
          options: dict | None = None, custom: dict | None = None, min_=None, max_=None) -> dict:
    defaults = {"unit": unit, "thresholds": thresholds,
                "color": {"mode": "thresholds" if kind in ("stat", "gauge") else "palette-classic"}}
    if decimals is not None:
        defaults["decimals"] = decimals
    if min_ is not None:
        defaults["min"] = min_
    if max_ is not None:
        defaults["max"] = max_
    if custom:
        defaults["custom"] = custom
    for i, t in enumerate(targets):
        t["refId"] = chr(ord("A") + i)
    p = {"type": kind, "title": title, "description": description, "datasource": DS,
         "fieldConfig": {"defaults": defaults, "overrides": []},
         "options": options or {}, "targets": targets, "gridPos": {"w": w, "h": h}}
    return p


def timeseries(title, description, targets, *, stack=False, bars=False, **kw):
    custom = {"drawStyle": "bars" if bars else "line", "lineWidth": 1,
              "fillOpacity": 70 if bars else 10, "showPoints": "never",
              "stacking": {"mode": "normal" if stack else "none", "group": "A"},
              "thresholdsStyle": {"mode": "off" if kw.get("thresholds") in (None, NO_THRESHOLDS)
                                  else "line+area"}}
    options = {"legend": {"displayMode": "table", "placement": "right", "calcs": ["lastNotNull", "max"],
                          "showLegend": True},
               "tooltip": {"mode": "multi", "sort": "desc"}}
    return panel("timeseries", title, description, targets, custom=custom, options=options, **kw)


def stat(title, description, targets, **kw):
    kw.setdefault("w", 6)
    kw.setdefault("h", 5)
    options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "colorMode": "background", "graphMode": "area", "textMode": "auto",
               "justifyMode": "auto", "orientation": "auto"}
    return panel("stat", title, description, targets, options=options, **kw)


def gauge(title, description, targets, **kw):
    kw.setdefault("w", 6)
    kw.setdefault("h", 5)
    options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "showThresholdLabels": False, "showThresholdMarkers": True}
    return panel("gauge", title, description, targets, options=options, **kw)


def bargauge(title, description, targets, **kw):
    options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "orientation": "horizontal", "displayMode": "gradient", "showUnfilled": True}
    return panel("bargauge", title, description, targets, options=options, **kw)


def heatmap(title, description, targets, *, unit="s", **kw):
    options = {"calculate": False, "yAxis": {"unit": unit, "axisPlacement": "left"},
               "cellGap": 1, "color": {"mode": "scheme", "scheme": "Oranges", "exponent": 0.5,
                                       "steps": 64, "fill": "dark-orange", "reverse": False},
               "rowsFrame": {"layout": "auto"}, "tooltip": {"show": True, "yHistogram": True},
               "legend": {"show": True}}
    for t in targets:
        t["format"] = "heatmap"
        t["legendFormat"] = "{{le}}"
    return panel("heatmap", title, description, targets, unit=unit, options=options, **kw)


def row(title: str) -> dict:
    return {"type": "row", "title": title, "collapsed": False, "panels": [],
            "gridPos": {"w": 24, "h": 1}}


def query_var(name: str, label: str, metric: str, description: str) -> dict:
    q = f"label_values({metric}, {name})"
    return {"type": "query", "name": name, "label": label, "description": description,
            "datasource": DS, "query": {"query": q, "refId": f"{name}-values"}, "definition": q,
            "multi": True, "includeAll": True, "allValue": ".*",
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "refresh": 2, "sort": 1, "hide": 0, "regex": ""}


DATASOURCE_VAR = {"type": "datasource", "name": "datasource", "label": "Data source",
                  "query": "prometheus", "current": {}, "hide": 0, "refresh": 1, "regex": "",
                  "description": "The Prometheus that scrapes mozaiek."}


def layout(items: list[dict]) -> list[dict]:
    """Assigns ids and grid positions: panels fill rows of 24 columns left to right."""
    x = y = row_h = 0
    for i, p in enumerate(items, start=1):
        p["id"] = i
        g = p["gridPos"]
        if p["type"] == "row" or x + g["w"] > 24:
            x, y, row_h = 0, y + row_h, 0
        g["x"], g["y"] = x, y
        x += g["w"]
        row_h = max(row_h, g["h"])
        if p["type"] == "row":
            x, y, row_h = 0, y + 1, 0
    return items


def dashboard(uid: str, title: str, description: str, tags: list[str], variables: list[dict],
              items: list[dict], time_from: str, refresh: str) -> dict:
    return {
        "uid": uid, "title": title, "description": description,
        "tags": ["mozaiek", *tags], "editable": True, "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION, "version": 1, "timezone": "browser",
        "time": {"from": time_from, "to": "now"}, "refresh": refresh,
        "timepicker": {"refresh_intervals": ["10s", "30s", "1m", "5m", "15m", "1h"]},
        "templating": {"list": [DATASOURCE_VAR, *variables]},
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}]},
        "links": [{"title": "mozaiek dashboards", "type": "dashboards", "tags": ["mozaiek"],
                   "asDropdown": True, "includeVars": False, "keepTime": True}],
        "panels": layout(items),
    }


# ---------------------------------------------------------- pipeline health

def pipeline_health() -> dict:
    src = 'source=~"$source"'
    items = [
        row("Is it up and keeping pace?"),
        stat("Service up", "1 when Prometheus could scrape mozaiek at the last attempt, per instance. "
             "Red means no signals are scored and no alerts raised.",
             [target('up{job="mozaiek"}', "{{instance}}")], unit="none",
             thresholds=steps("red", None, "green", 1), w=4),
        stat("Uptime", "Time since the pipeline last (re)started in each instance.",
             [target("time() - mozaiek_process_start_time_seconds", "{{instance}}")], unit="s",
             thresholds=steps("orange", None, "green", 600), w=4),
        stat("Restarts in range", "How often the pipeline started within the selected time range "
             "(process restarts and in-process restarts). More than one: look at the service log.",
             [target("sum(changes(mozaiek_process_start_time_seconds[$__range]))", "restarts")],
             unit="none", thresholds=steps("green", None, "orange", 1, "red", 3), w=4),
        stat("Consumed", "Records consumed per second from all partner topics of the selected sources.",
             [target(f"sum(source:mozaiek_records_in:rate1m{{{src}}})", "records/s")],
             unit="reqps", w=4),
        stat("DLQ share", "Share of consumed records that went to mozaiek.dlq over 5 minutes. Above 5% "
             "for 10 minutes raises MozaiekDlqRateHigh.",
             [target("mozaiek:records_dlq:ratio_rate5m", "DLQ share")], unit="percentunit",
             thresholds=steps("green", None, "orange", 0.01, "red", 0.05), decimals=2, w=4),
        stat("In flight", "Records consumed but not yet processed or dead-lettered: consumed minus "
             "processed minus DLQ. It stays small when nothing is lost; a steady rise means records "
             "are stuck.",
             [target("sum(mozaiek_records_in_total) - sum(mozaiek_records_processed_total) "
                     "- sum(mozaiek_records_dlq_total)", "in flight")],
             unit="none", thresholds=steps("green", None, "orange", 10000), w=4),
        row("Throughput"),
        timeseries("Records consumed per source",
                   "Records per second read from each partner topic signals.<source>. Sources that "
                   "report in batches (COA every two weeks) show as spikes.",
                   [target(f"sum by (source) (source:mozaiek_records_in:rate1m{{{src}}})", "{{source}}")],
                   unit="reqps", stack=True),
        timeseries("Processed and dead-lettered",
                   "Records per second accepted by intake and sent on to scoring, against records "
                   "per second written to the DLQ. Together they make up what was consumed.",
                   [target(f"sum(source:mozaiek_records_processed:rate1m{{{src}}})", "processed"),
                    target(f"sum(source_reason:mozaiek_records_dlq:rate5m{{{src}}})", "dlq")],
                   unit="reqps"),
        timeseries("DLQ by reason",
                   "Records per second written to mozaiek.dlq, by machine-readable reason. A new "
                   "reason or a jump usually means a partner changed its format or clock.",
                   [target(f"sum by (reason) (source_reason:mozaiek_records_dlq:rate5m{{{src}}})",
                           "{{reason}}")], unit="reqps", stack=True),
        timeseries("DLQ by source",
                   "Records per second written to mozaiek.dlq, by the partner they came from "
                   "(unknown: the source could not be read from the record).",
                   [target(f"sum by (source) (source_reason:mozaiek_records_dlq:rate5m{{{src}}})",
                           "{{source}}")], unit="reqps", stack=True),
        row("Lag and event time"),
        timeseries("Consumer lag per group",
                   "Records behind the end of the partitions, per consumer group (intake reads the "
                   "partner topics, convergence the internal subject topic). Growing for 15 minutes "
                   "above 1000 raises MozaiekConsumerLagGrowing.",
                   [target("group:mozaiek_consumer_lag:sum", "{{group}}")], unit="none",
                   thresholds=steps("green", None, "orange", 1000, "red", 100000)),
        timeseries("Consumer lag per topic",
                   "The same lag split by topic: shows which partner topic is behind.",
                   [target("sum by (group, topic) (mozaiek_consumer_lag)", "{{group}} {{topic}}")],
                   unit="none"),
        timeseries("Watermark delay per source",
                   "Wall clock minus the source's event-time watermark (its latest observed_at). "
                   "Large for partners that report late by design; a delay that grows while the "
                   "source keeps sending means its event time stalled (MozaiekWatermarkStalled).",
                   [target(f"mozaiek_watermark_delay_seconds{{{src}}}", "{{source}}")], unit="s"),
        timeseries("Silence per source",
                   "Wall-clock time since the last record of each source. A source silent for "
                   "longer than its idle timeout no longer holds back the global watermark.",
                   [target(f"mozaiek_source_silence_seconds{{{src}}}", "{{source}}")], unit="s"),
        bargauge("Idle sources",
                 "1: the source is idle and no longer holds back the watermark; 0: active.",
                 [target(f"max by (source) (mozaiek_source_idle{{{src}}})", "{{source}}", instant=True)],
                 unit="none", thresholds=steps("green", None, "blue", 1), min_=0, max_=1, w=6),
        row("Latency, state, errors"),
        timeseries("Processing latency",
                   "Processing time per record from poll to flushed output, 50th, 95th and 99th "
                   "percentile over 5 minutes.",
                   [target("mozaiek:processing_latency_seconds:quantile_rate5m", "p{{quantile}}")],
                   unit="s", thresholds=steps("green", None, "orange", 1, "red", 5)),
        timeseries("State size",
                   "Keys held in each state store (subjects with state in RocksDB). Grows with "
                   "the number of subjects within the retention window.",
                   [target("sum by (store) (mozaiek_state_entries)", "{{store}}")], unit="short"),
        timeseries("Task errors",
                   "Errors caught at a task loop's boundary per stage, per interval. Any error raises "
                   "MozaiekTaskErrors; the service log says what happened.",
                   [target("sum by (stage) (increase(mozaiek_task_errors_total[$__rate_interval]))",
                           "{{stage}}")], unit="none", bars=True,
                   thresholds=steps("green", None, "red", 1)),
        timeseries("Duplicates ignored",
                   "Redelivered or repeated signals per second that convergence recognised by "
                   "(source, signal id) and ignored. Rises after a restart or a partner resend.",
                   [target("sum(rate(mozaiek_records_duplicate_total[$__rate_interval]))", "duplicates")],
                   unit="reqps"),
    ]
    return dashboard(
        "mozaiek-pipeline-health", "mozaiek / Pipeline health",
        "Throughput, DLQ, consumer lag, watermarks, latency, state and restarts of the mozaiek service.",
        ["operations"],
        [query_var("source", "Source", "mozaiek_records_in_total", "Partner organisations (sources).")],
        items, "now-3h", "30s")


# ------------------------------------------------------------ chain oversight

def chain_oversight() -> dict:
    src = 'source=~"$source"'
    sig = 'source=~"$source", indicator=~"$indicator"'
    items = [
        row("Signals"),
        stat("Signals accepted in range",
             "Signals accepted by intake from the selected sources and indicators in the selected "
             "time range (chain events not included).",
             [target(f"sum(increase(mozaiek_signals_total{{{sig}}}[$__range]))", "signals")],
             unit="none", decimals=0),
        gauge("Sources contributing",
              "Share of the configured partner organisations that delivered at least one accepted "
              "signal in the last 24 hours. Convergence needs several organisations: a low share "
              "means the picture is incomplete.",
              [target("mozaiek:sources_contributing:ratio1d", "contributing")], unit="percentunit",
              thresholds=steps("red", None, "orange", 0.5, "green", 0.8), min_=0, max_=1),
        stat("Alerts in range", "Alerts raised (new and escalations) in the selected time range, all rules.",
             [target("sum(increase(mozaiek_alerts_total[$__range]))", "alerts")], unit="none",
             decimals=0),
        stat("DLQ share", "Share of partner records rejected into the DLQ over 5 minutes; those "
             "signals do not count anywhere else.",
             [target("mozaiek:records_dlq:ratio_rate5m", "DLQ share")], unit="percentunit",
             thresholds=steps("green", None, "orange", 0.01, "red", 0.05), decimals=2),
        timeseries("Signals per source",
                   "Accepted signals per day from each partner organisation (rate over the last hour, "
                   "scaled to a day). Batch reporters show as steps.",
                   [target(f"sum by (source) (source_indicator:mozaiek_signals:rate1h{{{sig}}}) * {DAY}",
                           "{{source}}")], unit="none", stack=True),
        bargauge("Signals per source in range",
                 "Accepted signals per partner organisation within the selected time range.",
                 [target(f"sum by (source) (increase(mozaiek_signals_total{{{sig}}}[$__range]))",
                         "{{source}}", instant=True)], unit="none", decimals=0),
        timeseries("Signals per indicator",
                   "Accepted signals per day for each indicator of the catalogue (rate over the last "
                   "hour, scaled to a day), for the selected sources.",
                   [target(f"sum by (indicator) (source_indicator:mozaiek_signals:rate1h{{{sig}}}) * {DAY}",
                           "{{indicator}}")], unit="none", stack=True),
        bargauge("Signals per indicator in range",
                 "Accepted signals per indicator within the selected time range: which soft signals "
                 "the chain actually reports.",
                 [target(f"sum by (indicator) (increase(mozaiek_signals_total{{{sig}}}[$__range]))",
                         "{{indicator}}", instant=True)], unit="none", decimals=0),
        row("Reporting delay (observed to reported)"),
        timeseries("Reporting delay, median per source",
                   "Median time from when a partner observed something (observed_at) to when it "
                   "reported it (reported_at), over the last day. Late reporting delays every alert "
                   "that depends on it.",
                   [target(f'source:mozaiek_reporting_delay_seconds:quantile_rate1d{{quantile="0.5",{src}}}',
                           "{{source}}")], unit="s",
                   thresholds=steps("green", None, "orange", 7 * DAY, "red", 14 * DAY)),
        timeseries("Reporting delay, 90th percentile per source",
                   "Nine in ten signals of the source were reported within this time after they "
                   "were observed (last day). Compare with the allowed lateness of the source.",
                   [target(f'source:mozaiek_reporting_delay_seconds:quantile_rate1d{{quantile="0.9",{src}}}',
                           "{{source}}")], unit="s",
                   thresholds=steps("green", None, "orange", 14 * DAY, "red", 30 * DAY)),
        row("Registrations"),
        bargauge("Presumed victims registered per year",
                 "Unique presumed victims per registration year, de-duplicated by pseudonym across "
                 "reporters, for each counting rule (e.g. the registry's count, and the count without "
                 "persons reported for sexual exploitation only by the border police).",
                 [target('sum by (count, year) (mozaiek_registrations_unique{form="all", region="all", reporter="all"})',
                         "{{count}} {{year}}", instant=True)], unit="none", decimals=0),
        bargauge("Registrations per exploitation form",
                 "Unique presumed victims per suspected exploitation form and counting rule, all years.",
                 [target('sum by (count, form) (mozaiek_registrations_unique{form!="all"})',
                         "{{count}}: {{form}}", instant=True)], unit="none", decimals=0),
        bargauge("Registrations per reporter",
                 "Unique presumed victims per reporting organisation and counting rule, all years. "
                 "A person reported by several organisations counts once in the totals.",
                 [target('sum by (count, reporter) (mozaiek_registrations_unique{reporter!="all"})',
                         "{{count}}: {{reporter}}", instant=True)], unit="none", decimals=0),
        bargauge("Registrations per nationality region",
                 "Unique presumed victims per nationality region (CoMensha grouping) and counting rule.",
                 [target('sum by (count, region) (mozaiek_registrations_unique{region!="all"})',
                         "{{count}}: {{region}}", instant=True)], unit="none", decimals=0),
        gauge("Converging persons never registered",
              "Of the persons whose signals converged into an alert, the share never registered as a "
              "presumed victim: the part of the picture the registration figures miss.",
              [target("sum(mozaiek_converging_persons_unregistered) / clamp_min(sum(mozaiek_converging_persons), 1)",
                      "never registered")], unit="percentunit", min_=0, max_=1,
              thresholds=steps("green", None, "orange", 0.25, "red", 0.5), w=6),
        timeseries("Chain events per type",
                   "Valid chain events per day by type (meldingen sent, acknowledged, answered; "
                   "arrivals, transfers, departures, re-appearances; registrations).",
                   [target(f"sum by (type) (rate(mozaiek_chain_events_total[1h])) * {DAY}", "{{type}}")],
                   unit="none", w=18),
        row("Alerts"),
        timeseries("Alerts per rule",
                   "Alerts raised per rule over the last 24 hours: convergence per person, vehicle "
                   "and location, and the network, missing-person and feedback rules.",
                   [target("rule:mozaiek_alerts:increase1d", "{{rule}}")], unit="none"),
        bargauge("Alerts per rule in range",
                 "Alerts raised per rule in the selected time range, new and escalations together.",
                 [target("sum by (rule) (increase(mozaiek_alerts_total[$__range]))", "{{rule}}",
                         instant=True)], unit="none", decimals=0),
        timeseries("New alerts and escalations",
                   "Alerts per hour by kind: new (first alert of an episode) and escalation (the "
                   "score rose by the escalation step during the cooldown).",
                   [target("sum by (kind) (rate(mozaiek_alerts_total[1h])) * 3600", "{{kind}}")],
                   unit="none"),
        timeseries("Alerts per subject type",
                   "Alerts per hour by the kind of subject they are about: person (pseudonym), "
                   "vehicle, location.",
                   [target("sum by (subject_type) (rate(mozaiek_alerts_total[1h])) * 3600",
                           "{{subject_type}}")], unit="none"),
        row("Analysts and privacy"),
        bargauge("Alert actions in range",
                 "What analysts did with alerts in the selected range through the console or the "
                 "API (mozaiek.alert-actions): acknowledged, dismissed, escalated.",
                 [target("sum by (action) (increase(mozaiek_alert_actions_total[$__range]))",
                         "{{action}}", instant=True)], unit="none", decimals=0, w=8),
        timeseries("Entity lookups",
                   "Entity views opened per interval, by outcome. Every found and not_found lookup "
                   "wrote an audit record (who, which entity, why) to mozaiek.audit; unaudited ones "
                   "were refused because the audit record could not be written.",
                   [target("sum by (outcome) (increase(mozaiek_entity_lookups_total[$__rate_interval]))",
                           "{{outcome}}")], unit="none", bars=True, w=8),
        bargauge("Erasures applied in range",
                 "Erasure requests applied at the partition owning the entity, by subject type, in "
                 "the selected range. Each request is also on mozaiek.audit.",
                 [target("sum by (subject_type) (increase(mozaiek_erasures_total[$__range]))",
                         "{{subject_type}}", instant=True)], unit="none", decimals=0, w=8),
        row("Links between persons, vehicles and locations"),
        timeseries("Links created and expired",
                   "Links per hour by kind (person-vehicle, person-location, vehicle-location): "
                   "created when a signal names both subjects, expired when no signal renewed them "
                   "within the link window. Each link counts once.",
                   [target("sum by (link_type) (rate(mozaiek_links_created_total[1h])) * 3600",
                           "created {{link_type}}"),
                    target("sum by (link_type) (rate(mozaiek_links_expired_total[1h])) * 3600",
                           "expired {{link_type}}")], unit="none"),
        timeseries("Entity notices",
                   "Notices per second between linked entities on other partitions, by kind "
                   "(sent, received, unmatched): what the network rules and the person lift learn "
                   "about the other end of a link.",
                   [target("sum by (kind) (rate(mozaiek_entity_notices_total[$__rate_interval]))",
                           "{{kind}}")], unit="reqps"),
    ]
    return dashboard(
        "mozaiek-chain-oversight", "mozaiek / Chain oversight",
        "What the chain reports, how late, and which alerts it yields.",
        ["oversight"],
        [query_var("source", "Source", "mozaiek_signals_total", "Partner organisations."),
         query_var("indicator", "Indicator", "mozaiek_signals_total", "Indicators of the catalogue.")],
        items, "now-7d", "1m")


# ----------------------------------------------------------- feedback latency

def feedback_latency() -> dict:
    sel = 'from=~"$from", to=~"$to"'
    items = [
        row("Meldingen open and unanswered"),
        stat("Open meldingen", "Meldingen sent and still without feedback, between the selected "
             "organisations.",
             [target(f"sum(mozaiek_meldingen_open{{{sel}}})", "open")], unit="none", decimals=0),
        stat("Open longer than 90 days", "Open meldingen older than 90 days: reporters that never "
             "heard back.",
             [target(f'sum(mozaiek_meldingen_open{{{sel}, age="gt_90d"}})', "older than 90 days")],
             unit="none", decimals=0, thresholds=steps("green", None, "orange", 1, "red", 20)),
        stat("Unanswered in range", "Meldingen that passed the feedback deadline without feedback "
             "in the selected time range (each one also an sla_breach alert).",
             [target(f"sum(increase(mozaiek_meldingen_unanswered_total{{{sel}}}[$__range]))",
                     "unanswered")], unit="none", decimals=0,
             thresholds=steps("green", None, "orange", 1, "red", 10)),
        stat("SLA breach alerts in range", "sla_breach alerts written to mozaiek.alerts in the "
             "selected time range (one per melding past its deadline), for case managers to chase.",
             [target(f"sum(increase(mozaiek_meldingen_unanswered_total{{{sel}}}[$__range]))", "sla_breach")],
             unit="none", decimals=0, thresholds=steps("green", None, "orange", 1, "red", 10)),
        bargauge("Open meldingen by age",
                 "Open meldingen per age bucket: under 7 days, 7-30, 30-90 and over 90 days since "
                 "they were sent.",
                 [target(f"sum by (age) (mozaiek_meldingen_open{{{sel}}})", "{{age}}", instant=True)],
                 unit="none", decimals=0),
        bargauge("Open meldingen per sender and receiver",
                 "Open meldingen per sender -> receiver pair: who waits on whom.",
                 [target(f"sum by (from, to) (mozaiek_meldingen_open{{{sel}}})", "{{from}} -> {{to}}",
                         instant=True)], unit="none", decimals=0),
        timeseries("Unanswered meldingen per day",
                   "Meldingen per day passing the feedback deadline without feedback, per sender -> "
                   "receiver. Rising to twice last week's average raises MozaiekFeedbackSlaBreachesRising.",
                   [target(f"sum by (from, to) (rate(mozaiek_meldingen_unanswered_total{{{sel}}}[1h])) * {DAY}",
                           "{{from}} -> {{to}}")], unit="none",
                   thresholds=steps("green", None, "orange", 3)),
        timeseries("SLA breach alerts per day",
                   "sla_breach alerts per day on mozaiek.alerts, all selected pairs together (one per "
                   "melding past its deadline; rate over the last hour, scaled).",
                   [target(f"sum(rate(mozaiek_meldingen_unanswered_total{{{sel}}}[1h])) * {DAY}", "sla_breach")],
                   unit="none"),
        row("Latency"),
        timeseries("Acknowledgement latency per sender and receiver",
                   "Median (solid) time from sending a melding to its acknowledgement, over the "
                   "last week, per sender -> receiver.",
                   [target(f'from_to_stage:mozaiek_feedback_latency_seconds:quantile_rate7d{{stage="ack", quantile="0.5", {sel}}}',
                           "{{from}} -> {{to}}")], unit="s",
                   thresholds=steps("green", None, "orange", 7 * DAY, "red", 30 * DAY)),
        timeseries("Feedback latency per sender and receiver",
                   "Median time from sending a melding to feedback on its outcome, over the last "
                   "week, per sender -> receiver. The documents say reporters rarely hear back: this "
                   "shows how rarely and how late.",
                   [target(f'from_to_stage:mozaiek_feedback_latency_seconds:quantile_rate7d{{stage="feedback", quantile="0.5", {sel}}}',
                           "{{from}} -> {{to}}")], unit="s",
                   thresholds=steps("green", None, "orange", 30 * DAY, "red", 90 * DAY)),
        bargauge("Feedback latency, 90th percentile",
                 "Nine in ten meldingen got feedback within this time (last week), per sender -> receiver.",
                 [target(f'from_to_stage:mozaiek_feedback_latency_seconds:quantile_rate7d{{stage="feedback", quantile="0.9", {sel}}}',
                         "{{from}} -> {{to}}", instant=True)], unit="s",
                 thresholds=steps("green", None, "orange", 30 * DAY, "red", 90 * DAY)),
        bargauge("Acknowledgement latency, 90th percentile",
                 "Nine in ten meldingen were acknowledged within this time (last week), per sender -> receiver.",
                 [target(f'from_to_stage:mozaiek_feedback_latency_seconds:quantile_rate7d{{stage="ack", quantile="0.9", {sel}}}',
                         "{{from}} -> {{to}}", instant=True)], unit="s",
                 thresholds=steps("green", None, "orange", 7 * DAY, "red", 30 * DAY)),
        heatmap("Feedback latency distribution",
                "How many meldingen got feedback after how long, per interval (darker: more). "
                "Buckets run from an hour to half a year.",
                [target(f'sum by (le) (increase(mozaiek_feedback_latency_seconds_bucket{{stage="feedback", {sel}}}[$__rate_interval]))')]),
        heatmap("Acknowledgement latency distribution",
                "How many meldingen were acknowledged after how long, per interval (darker: more).",
                [target(f'sum by (le) (increase(mozaiek_feedback_latency_seconds_bucket{{stage="ack", {sel}}}[$__rate_interval]))')]),
    ]
    return dashboard(
        "mozaiek-feedback-latency", "mozaiek / Feedback latency",
        "How fast meldingen are acknowledged and answered between chain partners, and which go unanswered.",
        ["oversight"],
        [query_var("from", "Sender", "mozaiek_meldingen_unanswered_total", "Organisation that sent the melding."),
         query_var("to", "Receiver", "mozaiek_meldingen_unanswered_total", "Organisation the melding went to.")],
        items, "now-30d", "1m")


# ------------------------------------------------------------ missing persons

def missing_persons() -> dict:
    loc = 'location=~"$location", age_group=~"$age_group"'
    age = 'age_group=~"$age_group"'
    items = [
        row("Now"),
        stat("Missing now", "Persons who left reception to an unknown destination (MOB) and have "
             "not reappeared, for the selected age groups.",
             [target(f"sum(mozaiek_missing_open{{{age}}})", "missing")], unit="none", decimals=0,
             thresholds=steps("green", None, "orange", 1)),
        stat("Minors missing now", "Unaccompanied minors missing from reception now.",
             [target('sum(mozaiek_missing_open{age_group="minor"})', "minors")], unit="none",
             decimals=0, thresholds=steps("green", None, "red", 1)),
        stat("Departures in range", "MOB departures in the selected time range, selected locations "
             "and age groups.",
             [target(f"sum(increase(mozaiek_mob_departures_total{{{loc}}}[$__range]))", "departures")],
             unit="none", decimals=0),
        stat("With prior signals in range", "Of those departures, how many concerned a person with "
             "signals or links in the window before (each raised a worrying_departure alert).",
             [target(f"sum(increase(mozaiek_mob_with_prior_signals_total{{{age}}}[$__range]))",
                     "with prior signals")], unit="none", decimals=0,
             thresholds=steps("green", None, "orange", 1, "red", 5)),
        row("Departures"),
        timeseries("Departures per location per week",
                   "MOB departures in the last 7 days at each reception location (configured "
                   "locations; any other is 'other').",
                   [target(f"sum by (location) (location_age_group_region:mozaiek_mob_departures:increase7d{{{loc}}})",
                           "{{location}}")], unit="none", stack=True),
        timeseries("Departures per age group per week",
                   "MOB departures in the last 7 days, minors and adults apart.",
                   [target(f"sum by (age_group) (location_age_group_region:mozaiek_mob_departures:increase7d{{{loc}}})",
                           "{{age_group}}")], unit="none", stack=True),
        bargauge("Departures per region, last week",
                 "MOB departures in the last 7 days per nationality region (CoMensha grouping, "
                 "never the nationality itself).",
                 [target(f"sum by (region) (location_age_group_region:mozaiek_mob_departures:increase7d{{{loc}}})",
                         "{{region}}", instant=True)], unit="none", decimals=0),
        bargauge("Departures per location in range",
                 "MOB departures per location within the selected time range.",
                 [target(f"sum by (location) (increase(mozaiek_mob_departures_total{{{loc}}}[$__range]))",
                         "{{location}}", instant=True)], unit="none", decimals=0),
        row("Patterns"),
        timeseries("Days from arrival to departure",
                   "Median and 90th percentile of the days between arrival at reception and "
                   "departure to an unknown destination (last 30 days). Short stays among minors "
                   "are the pattern the documents warn about.",
                   [target(f"age_group:mozaiek_mob_days_since_arrival:quantile_rate30d{{{age}}}",
                           "{{age_group}} p{{quantile}}")], unit="d",
                   thresholds=steps("red", None, "orange", 7, "green", 30)),
        heatmap("Days from arrival to departure, distribution",
                "Departures per interval by days since arrival (darker: more).",
                [target(f"sum by (le) (increase(mozaiek_mob_days_since_arrival_bucket{{{age}}}[$__rate_interval]))")],
                unit="d"),
        timeseries("Share of departures with prior signals",
                   "Of the departures in the last 7 days, the share where the person had signals or "
                   "links before leaving.",
                   [target(f"sum by (age_group) (increase(mozaiek_mob_with_prior_signals_total{{{age}}}[7d])) "
                           f"/ clamp_min(sum by (age_group) (increase(mozaiek_mob_departures_total{{{age}}}[7d])), 1)",
                           "{{age_group}}")], unit="percentunit", min_=0, max_=1),
        timeseries("Missing now per age group",
                   "Persons missing from reception and not seen again, per age group, over time.",
                   [target(f"sum by (age_group) (mozaiek_missing_open{{{age}}})", "{{age_group}}")],
                   unit="none"),
        bargauge("Re-appearances in range",
                 "Missing persons seen again in the selected time range, by where: at a reception "
                 "location, by the police, in Eurodac, ...",
                 [target("sum by (where) (increase(mozaiek_reappearances_total[$__range]))", "{{where}}",
                         instant=True)], unit="none", decimals=0),
        bargauge("Departures without known arrival in range",
                 "MOB departures of persons whose arrival mozaiek never saw, per age group: they are "
                 "missing from the days-to-departure figures. An arrival reported after the "
                 "departure is matched to it when it comes and no longer counts here.",
                 [target(f"sum by (age_group) (increase(mozaiek_mob_departures_without_arrival_total{{{age}}}[$__range]))"
                         f" - sum by (age_group) (increase(mozaiek_mob_arrivals_matched_late_total{{{age}}}[$__range]))",
                         "{{age_group}}", instant=True)], unit="none", decimals=0),
        bargauge("Detail lost to disclosure control",
                 "Privacy (privacy.min_cell_size, shown as the threshold): no cell of these "
                 "metrics shows fewer persons than the minimum, and each moves in steps of it. "
                 "Counts from smaller cells are shown only in a coarser one (location \"other\", "
                 "region or age group \"all\"); this is how many, per metric. The panels above "
                 "show those coarse cells as \"other\" and \"all\".",
                 [target("max by (metric) (mozaiek_disclosure_folded)", "{{metric}}", instant=True)],
                 unit="none", decimals=0),
        bargauge("Spikes per location in range",
                 "Departure spikes per location in the selected range: departures in a short window "
                 "above that location's own baseline (one mob_spike alert each, MozaiekMobSpike).",
                 [target('sum by (location) (increase(mozaiek_mob_spikes_total{location=~"$location"}[$__range]))',
                         "{{location}}", instant=True)], unit="none", decimals=0,
                 thresholds=steps("green", None, "red", 1)),
        timeseries("Spikes and worrying departures",
                   "mob_spike alerts (departures at a location above its own baseline) and "
                   "worrying_departure alerts (departure of a person with prior signals), per day.",
                   [target(f'sum(rate(mozaiek_mob_spikes_total{{location=~"$location"}}[1h])) * {DAY}',
                           "mob_spike"),
                    target(f"sum(rate(mozaiek_mob_with_prior_signals_total{{{age}}}[1h])) * {DAY}",
                           "worrying_departure")], unit="none"),
    ]
    return dashboard(
        "mozaiek-missing-persons", "mozaiek / Missing persons",
        "Departures from reception to unknown destinations (MOB): where, who, how soon after "
        "arrival, with which prior signals, and who reappeared.",
        ["oversight"],
        [query_var("location", "Location", "mozaiek_mob_departures_total", "Configured reception locations."),
         query_var("age_group", "Age group", "mozaiek_mob_departures_total", "minor, adult or unknown.")],
        items, "now-30d", "1m")


DASHBOARDS = {
    "chain-oversight.json": chain_oversight,
    "feedback-latency.json": feedback_latency,
    "missing-persons.json": missing_persons,
    "pipeline-health.json": pipeline_health,
}


def render_all() -> dict[str, str]:
    return {name: json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
            for name, build in DASHBOARDS.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="do not write; fail if a committed dashboard differs from the generated one")
    args = ap.parse_args()
    stale = []
    for name, text in render_all().items():
        path = OUT / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            OUT.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of date (run dashboards/generate.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
