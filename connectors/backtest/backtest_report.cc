// NDJSON records and the one-line summary of a backtest (the HTML report is
// backtest_html.cc).
#include "connectors/backtest/backtest_report.h"

#include <algorithm>
#include <cstdio>

#include "operators/records/alert_json.h"
#include "stream/json_writer.h"

namespace mozaiek {
namespace {

void side_summary(JsonWriter& w, const SideResult& s) {
  std::size_t episodes = episodes_of(s.alerts).size();
  w.begin_object().key("config").string(s.config_path);
  w.key("alerts").integer(static_cast<std::int64_t>(s.alerts.size()));
  w.key("episodes").integer(static_cast<std::int64_t>(episodes));
  w.key("records").integer(static_cast<std::int64_t>(s.records));
  w.key("dead_letters").integer(static_cast<std::int64_t>(s.dead_letters));
  w.key("persons_seen").integer(static_cast<std::int64_t>(s.subjects_seen(SubjectType::person)));
  w.key("vehicles_seen").integer(static_cast<std::int64_t>(s.subjects_seen(SubjectType::vehicle)));
  w.key("locations_seen")
      .integer(static_cast<std::int64_t>(s.subjects_seen(SubjectType::location)));
  w.key("person_threshold").number(s.config.rule_for(SubjectType::person).threshold);
  w.key("seconds").number(s.seconds, 3).end_object();
}

void episode_json(JsonWriter& w, const Episode& e, const OperatorConfig& config) {
  std::string alert;
  write_alert_json(e.first, config, alert);
  w.begin_object().key("raised_at").timestamp(alert_known_at_ms(e.first));
  w.key("max_level").integer(e.max_level).key("max_score").number(e.max_score, 3);
  w.key("alerts").integer(static_cast<std::int64_t>(e.alerts));
  w.key("alert").raw(alert).end_object();
}

void quality_json(std::string& out, const char* side, const SideQuality& q) {
  for (const RuleQuality& r : q.rules) {
    JsonWriter w(out);
    w.begin_object().key("schema").string(kBacktestSchema).key("record").string("quality");
    w.key("side").string(side).key("rule").string(r.rule);
    w.key("subject_type").string(to_string(r.subject_type));
    w.key("cases").integer(static_cast<std::int64_t>(r.cases));
    w.key("caught").integer(static_cast<std::int64_t>(r.caught));
    w.key("lead_days").begin_array();
    for (double d : r.lead_days) w.number(d, 2);
    w.end_array();
    w.key("false_subjects").integer(static_cast<std::int64_t>(r.false_subjects));
    w.key("subjects_seen").integer(static_cast<std::int64_t>(r.subjects_seen));
    w.key("false_per_10k").number(r.false_per_10k(), 3);
    w.key("by_shape").begin_object();
    for (const auto& [shape, n] : r.by_shape) {
      w.key(shape).begin_object().key("caught").integer(static_cast<std::int64_t>(n.first));
      w.key("cases").integer(static_cast<std::int64_t>(n.second)).end_object();
    }
    w.end_object().end_object();
    out += '\n';
  }
  for (const PrPoint& p : q.pr) {
    JsonWriter w(out);
    w.begin_object().key("schema").string(kBacktestSchema).key("record").string("pr");
    w.key("side").string(side).key("threshold").number(p.threshold, 3);
    w.key("tp").integer(static_cast<std::int64_t>(p.tp));
    w.key("fp").integer(static_cast<std::int64_t>(p.fp));
    w.key("precision").number(p.precision, 4).key("recall").number(p.recall, 4);
    w.key("false_per_10k").number(p.false_per_10k, 3).end_object();
    out += '\n';
  }
}

}  // namespace

std::string backtest_ndjson(const BacktestReport& r) {
  std::string out;
  {
    JsonWriter w(out);
    w.begin_object().key("schema").string(kBacktestSchema).key("record").string("summary");
    w.key("baseline");
    side_summary(w, *r.baseline);
    w.key("candidate");
    side_summary(w, *r.candidate);
    w.key("only_baseline").integer(static_cast<std::int64_t>(r.count(DiffKind::only_baseline)));
    w.key("only_candidate").integer(static_cast<std::int64_t>(r.count(DiffKind::only_candidate)));
    w.key("changed").integer(static_cast<std::int64_t>(r.count(DiffKind::changed)));
    w.key("same").integer(static_cast<std::int64_t>(r.count(DiffKind::same)));
    w.key("cases").integer(static_cast<std::int64_t>(r.cases.size())).end_object();
    out += '\n';
  }
  for (const auto& [rule, c] : r.rules) {
    JsonWriter w(out);
    w.begin_object().key("schema").string(kBacktestSchema).key("record").string("rule");
    w.key("rule").string(rule);
    w.key("baseline")
        .begin_object()
        .key("alerts")
        .integer(static_cast<std::int64_t>(c.baseline_alerts));
    w.key("episodes").integer(static_cast<std::int64_t>(c.baseline_episodes)).end_object();
    w.key("candidate")
        .begin_object()
        .key("alerts")
        .integer(static_cast<std::int64_t>(c.candidate_alerts));
    w.key("episodes").integer(static_cast<std::int64_t>(c.candidate_episodes)).end_object();
    w.key("only_baseline").integer(static_cast<std::int64_t>(c.only_baseline));
    w.key("only_candidate").integer(static_cast<std::int64_t>(c.only_candidate));
    w.key("changed").integer(static_cast<std::int64_t>(c.changed)).end_object();
    out += '\n';
  }
  for (const EpisodeDiff& d : r.diffs) {
    if (d.kind == DiffKind::same) continue;
    JsonWriter w(out);
    w.begin_object().key("schema").string(kBacktestSchema).key("record").string("diff");
    w.key("kind").string(to_string(d.kind)).key("rule").string(d.key.rule);
    w.key("subject").begin_object().key("type").string(to_string(d.key.type));
    w.key("key").string(d.key.key).end_object();
    w.key("episode").integer(static_cast<std::int64_t>(d.key.n));
    w.key("changes").begin_array();
    for (const auto& c : d.changes) w.string(c);
    w.end_array();
    w.key("baseline");
    if (d.baseline) {
      episode_json(w, *d.baseline, r.baseline->config);
    } else {
      w.null();
    }
    w.key("candidate");
    if (d.candidate) {
      episode_json(w, *d.candidate, r.candidate->config);
    } else {
      w.null();
    }
    w.end_object();
    out += '\n';
  }
  if (r.baseline_quality) quality_json(out, "baseline", *r.baseline_quality);
  if (r.candidate_quality) quality_json(out, "candidate", *r.candidate_quality);
  return out;
}

std::string backtest_summary(const BacktestReport& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "backtest: baseline %zu alerts (%zu episodes), candidate %zu (%zu): %zu only in "
                "candidate, %zu only in baseline, %zu changed, %zu the same",
                r.baseline->alerts.size(), episodes_of(r.baseline->alerts).size(),
                r.candidate->alerts.size(), episodes_of(r.candidate->alerts).size(),
                r.count(DiffKind::only_candidate), r.count(DiffKind::only_baseline),
                r.count(DiffKind::changed), r.count(DiffKind::same));
  std::string out = buf;
  auto any = [](const SideQuality& q) -> const RuleQuality& { return q.rules.back(); };
  if (r.baseline_quality && r.candidate_quality) {
    const RuleQuality& b = any(*r.baseline_quality);
    const RuleQuality& c = any(*r.candidate_quality);
    std::snprintf(buf, sizeof buf,
                  "; %zu cases: caught %zu -> %zu, false persons per 10,000 %.2f -> %.2f", b.cases,
                  b.caught, c.caught, b.false_per_10k(), c.false_per_10k());
    out += buf;
  }
  return out;
}

}  // namespace mozaiek
