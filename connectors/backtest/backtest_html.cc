// The HTML report of a backtest: one self-contained page (inline CSS and
// SVG, no script), readable without tools and printable.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "connectors/backtest/backtest_report.h"
#include "connectors/backtest/svg_plot.h"

namespace mozaiek {
namespace {

using svg::escape;

constexpr const char* kBaseline = "#7a7a7a";
constexpr const char* kCandidate = "#1f6fb2";
constexpr std::int64_t kWeekMs = 7 * 86'400'000LL;
// 2025-01-06 was a Monday: weeks start on Mondays.
constexpr std::int64_t kMondayMs = 1'736'121'600'000LL;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
std::string count(std::size_t n) { return std::to_string(n); }

std::string subject_html(SubjectType type, const std::string& key) {
  const bool person = type == SubjectType::person;
  const std::string shown = person && key.size() > 12 ? key.substr(0, 12) + "…" : key;
  return "<span class=\"subject\" title=\"" + escape(key) + "\">" +
         escape(std::string(to_string(type))) + ":" + escape(shown) + "</span>";
}

std::string day(std::int64_t ms) {
  return format_rfc3339(event_time_from_ms(ms)).substr(0, 16).replace(10, 1, " ");
}

std::int64_t week_of(std::int64_t ms) {
  const std::int64_t d = ms - kMondayMs;
  return kMondayMs + (d >= 0 ? d / kWeekMs : (d - kWeekMs + 1) / kWeekMs) * kWeekMs;
}

std::string episode_cell(const std::optional<Episode>& e, const OperatorConfig& config) {
  if (!e) return "<td colspan=\"5\" class=\"none\">no alert</td>";
  const Alert& a = e->first;
  std::string out =
      "<td>" + escape(day(alert_known_at_ms(a))) + "</td><td>" + fmt("%.2f", a.score) +
      (e->max_score > a.score + 1e-9 ? " (max " + fmt("%.2f", e->max_score) + ")" : "") +
      "</td><td>" + std::to_string(e->max_level) + "</td><td>" +
      fmt("%.1f", a.detection_delay_seconds / 86400.0) + " d</td><td>";
  std::string sources;
  for (const auto& s : a.sources) sources += (sources.empty() ? "" : ", ") + s;
  out += escape(sources) + "<details><summary>" + count(a.contributions.size()) +
         " contributions</summary><ul class=\"contrib\">";
  for (const auto& c : a.contributions) {
    const std::string source = c.source < config.sources.size() ? config.sources[c.source].name
                                                                : "?";
    const std::string indicator = c.indicator < config.catalogue.size()
                                      ? config.catalogue.at(c.indicator).code
                                      : "?";
    out += "<li>" + escape(c.signal_id) + " · " + escape(source) + " · " + escape(indicator) +
           " · " + escape(day(to_ms(c.observed_at))) + " · " + fmt("%.2f", c.decayed_weight) + "/" +
           fmt("%.2f", c.weight) + "</li>";
  }
  for (const auto& l : a.linked) {
    out += "<li>linked " + subject_html(l.type, l.key) + " (" + escape(l.rule) + ")</li>";
  }
  out += "</ul></details></td>";
  return out;
}

void diff_table(std::string& out, const BacktestReport& r, DiffKind kind, const char* title,
                std::size_t max_listed) {
  const std::size_t n = r.count(kind);
  out += "<h3 id=\"" + std::string(to_string(kind)) + "\">" + title + " (" + count(n) + ")</h3>";
  if (n == 0) {
    out += "<p class=\"none\">None.</p>";
    return;
  }
  if (n > max_listed) {
    out += "<p>The first " + count(max_listed) + " are listed; the NDJSON output has all " +
           count(n) + ".</p>";
  }
  out += "<table class=\"diff\"><thead><tr><th rowspan=\"2\">rule</th><th rowspan=\"2\">subject"
         "</th><th colspan=\"5\">baseline</th><th colspan=\"5\">candidate</th></tr><tr>";
  for (int i = 0; i < 2; ++i) {
    out += "<th>raised</th><th>score</th><th>level</th><th>delay</th><th>sources</th>";
  }
  out += "</tr></thead><tbody>";
  std::size_t listed = 0;
  for (const EpisodeDiff& d : r.diffs) {
    if (d.kind != kind || listed++ >= max_listed) continue;
    out += "<tr><td>" + escape(d.key.rule) + "</td><td>" + subject_html(d.key.type, d.key.key);
    if (!d.changes.empty()) {
      std::string changes;
      for (const auto& c : d.changes) changes += (changes.empty() ? "" : ", ") + c;
      out += "<div class=\"changes\">" + escape(changes) + "</div>";
    }
    out += "</td>" + episode_cell(d.baseline, r.baseline->config) +
           episode_cell(d.candidate, r.candidate->config) + "</tr>";
  }
  out += "</tbody></table>";
}

std::string weekly_plots(const BacktestReport& r) {
  std::string out;
  for (const auto& [rule, counts] : r.rules) {
    std::vector<svg::Series> series{{"baseline", kBaseline, {}, true},
                                    {"candidate", kCandidate, {}, false}};
    std::map<std::int64_t, std::pair<double, double>> weeks;
    for (const Alert& a : r.baseline->alerts) {
      if (a.rule == rule) weeks[week_of(alert_known_at_ms(a))].first += 1;
    }
    for (const Alert& a : r.candidate->alerts) {
      if (a.rule == rule) weeks[week_of(alert_known_at_ms(a))].second += 1;
    }
    if (weeks.empty()) continue;
    // Weeks without alerts count as 0 between the first and the last.
    for (std::int64_t w = weeks.begin()->first; w <= weeks.rbegin()->first; w += kWeekMs) {
      const auto& v = weeks[w];
      series[0].points.emplace_back(static_cast<double>(w), v.first);
      series[1].points.emplace_back(static_cast<double>(w), v.second);
    }
    svg::Axes axes;
    axes.title = rule + ": alerts per week";
    axes.x_label = "week (raised, event time)";
    axes.y_label = "alerts";
    axes.x_dates = true;
    axes.width = 460;
    axes.height = 220;
    out += svg::line_plot(axes, series);
  }
  return out;
}

std::string delay_plot(const BacktestReport& r) {
  static constexpr double kEdges[] = {0, 1, 3, 7, 14, 30};
  const std::vector<std::string> bins{"< 1 d", "1-3 d", "3-7 d", "7-14 d", "14-30 d", "≥ 30 d"};
  auto histogram = [&](const SideResult& s, const char* name, const char* color) {
    svg::Series out{name, color, {}, false};
    std::vector<double> n(bins.size(), 0);
    for (const auto& [k, e] : episodes_of(s.alerts)) {
      const double d = e.first.detection_delay_seconds / 86400.0;
      std::size_t b = 0;
      while (b + 1 < bins.size() && d >= kEdges[b + 1]) ++b;
      n[b] += 1;
    }
    for (std::size_t i = 0; i < n.size(); ++i) out.points.emplace_back(i, n[i]);
    return out;
  };
  svg::Axes axes;
  axes.title = "Detection delay of the first alert of each episode";
  axes.x_label = "how late the pieces arrived";
  axes.y_label = "episodes";
  return svg::bar_plot(axes, bins,
                       {histogram(*r.baseline, "baseline", kBaseline),
                        histogram(*r.candidate, "candidate", kCandidate)});
}

std::string difference_plot(const BacktestReport& r) {
  std::vector<std::string> rules;
  svg::Series plus{"only in candidate", "#2e8b57", {}, false};
  svg::Series minus{"only in baseline", "#c0392b", {}, false};
  svg::Series changed{"changed", "#e67e22", {}, false};
  for (const auto& [rule, c] : r.rules) {
    const double g = static_cast<double>(rules.size());
    rules.push_back(rule);
    plus.points.emplace_back(g, static_cast<double>(c.only_candidate));
    minus.points.emplace_back(g, -static_cast<double>(c.only_baseline));
    changed.points.emplace_back(g, static_cast<double>(c.changed));
  }
  svg::Axes axes;
  axes.title = "The difference per rule (episodes)";
  axes.y_label = "episodes";
  axes.width = std::max<int>(640, 110 * static_cast<int>(rules.size()));
  return svg::bar_plot(axes, rules, {plus, minus, changed});
}

std::string pr_plot(const BacktestReport& r) {
  std::vector<svg::Series> series;
  std::vector<svg::Marker> markers;
  auto add = [&](const SideQuality& q, const char* name, const char* color, bool dashed) {
    svg::Series s{name, color, {}, dashed};
    for (const PrPoint& p : q.pr) s.points.emplace_back(p.recall, p.precision);
    std::sort(s.points.begin(), s.points.end());
    series.push_back(std::move(s));
    for (const PrPoint& p : q.pr) {
      if (std::fabs(p.threshold - q.threshold) < 1e-9) {
        markers.push_back({p.recall, p.precision,
                           std::string(name) + " threshold " + fmt("%g", q.threshold), color});
      }
    }
  };
  add(*r.baseline_quality, "baseline", kBaseline, true);
  add(*r.candidate_quality, "candidate", kCandidate, false);
  svg::Axes axes;
  axes.title = "Precision and recall over the person threshold (person rule)";
  axes.x_label = "recall (cases alerted before their outcome)";
  axes.y_label = "precision";
  axes.x_min = 0;
  axes.x_max = 1;
  axes.y_min = 0;
  axes.y_max = 1;
  axes.height = 320;
  return svg::line_plot(axes, series, markers);
}

void quality_tables(std::string& out, const BacktestReport& r) {
  out += "<h2 id=\"quality\">Detection quality</h2><p>" + count(r.cases.size()) +
         " known cases (labels file and <code>victim.registered</code> events). A case counts as "
         "caught by a rule when an alert of the rule names the person (as subject or linked) "
         "and would have been raised live before the outcome. Lead: days from that alert to "
         "the outcome (registration, or departure for the missing-persons view). False-alert "
         "subjects: subjects the rule alerted on that name no case, per 10,000 subjects of "
         "that type seen.</p>";
  out += "<table><thead><tr><th>rule</th><th>caught (baseline → candidate)</th><th>median "
         "lead, days</th><th>false subjects</th><th>per 10,000 seen</th><th>by shape "
         "(candidate)</th></tr></thead><tbody>";
  auto find = [](const SideQuality& q, const std::string& rule) -> const RuleQuality* {
    for (const auto& x : q.rules) {
      if (x.rule == rule) return &x;
    }
    return nullptr;
  };
  auto median = [](const RuleQuality* q) {
    if (q == nullptr || q->lead_days.empty()) return std::string("–");
    return fmt("%.1f", q->lead_days[q->lead_days.size() / 2]);
  };
  std::vector<std::string> rules;
  for (const auto& x : r.candidate_quality->rules) rules.push_back(x.rule);
  for (const auto& x : r.baseline_quality->rules) {
    if (std::find(rules.begin(), rules.end(), x.rule) == rules.end()) {
      rules.insert(rules.end() - 1, x.rule);
    }
  }
  for (const auto& rule : rules) {
    const RuleQuality* b = find(*r.baseline_quality, rule);
    const RuleQuality* c = find(*r.candidate_quality, rule);
    auto caught = [](const RuleQuality* q) {
      return q == nullptr ? std::string("0") : count(q->caught);
    };
    auto falses = [](const RuleQuality* q) {
      return q == nullptr ? std::string("0") : count(q->false_subjects);
    };
    auto per = [](const RuleQuality* q) {
      return q == nullptr ? std::string("0") : fmt("%.2f", q->false_per_10k());
    };
    std::string shapes;
    if (c != nullptr) {
      for (const auto& [shape, n] : c->by_shape) {
        shapes += (shapes.empty() ? "" : ", ") + escape(shape) + " " + count(n.first) + "/" +
                  count(n.second);
      }
    }
    out += "<tr" + std::string(rule == "any" ? " class=\"total\"" : "") + "><td>" +
           escape(rule == "any" ? "any alert naming the person" : rule) + "</td><td>" + caught(b) +
           " → " + caught(c) + " of " + count(r.cases.size()) + "</td><td>" + median(b) + " → " +
           median(c) + "</td><td>" + falses(b) + " → " + falses(c) + "</td><td>" + per(b) + " → " +
           per(c) + "</td><td>" + shapes + "</td></tr>";
  }
  out += "</tbody></table>";
  out += pr_plot(r);
  out += "<p>Each point is one person threshold: a person counts as alerted at threshold T "
         "when their highest score under the person rule, at a time its source condition "
         "held and before their outcome, reached T. Swept from one run per side.</p>";
  out += "<table class=\"pr\"><thead><tr><th>threshold</th><th>recall b → c</th><th>precision "
         "b → c</th><th>false persons per 10,000 b → c</th></tr></thead><tbody>";
  // Both sides sweep the same quarter points plus their own threshold.
  std::map<double, std::pair<const PrPoint*, const PrPoint*>> points;
  for (const PrPoint& p : r.baseline_quality->pr) points[p.threshold].first = &p;
  for (const PrPoint& p : r.candidate_quality->pr) points[p.threshold].second = &p;
  auto cell = [](const PrPoint* p, double PrPoint::*field, const char* f) {
    return p == nullptr ? std::string("–") : fmt(f, p->*field);
  };
  for (const auto& [t, pair] : points) {
    const auto [b, c] = pair;
    const bool own = std::fabs(t - r.candidate_quality->threshold) < 1e-9 ||
                     std::fabs(t - r.baseline_quality->threshold) < 1e-9;
    if (!own && std::fmod(t, 0.5) != 0) continue;
    out += "<tr" + std::string(own ? " class=\"own\"" : "") + "><td>" + fmt("%g", t) + "</td><td>" +
           cell(b, &PrPoint::recall, "%.3f") + " → " + cell(c, &PrPoint::recall, "%.3f") +
           "</td><td>" + cell(b, &PrPoint::precision, "%.3f") + " → " +
           cell(c, &PrPoint::precision, "%.3f") + "</td><td>" +
           cell(b, &PrPoint::false_per_10k, "%.2f") + " → " +
           cell(c, &PrPoint::false_per_10k, "%.2f") + "</td></tr>";
  }
  out += "</tbody></table>";
}

constexpr const char* kStyle = R"(<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}tr.total td{font-weight:600}tr.own td{background:#eef5fb}
.none{color:#888}.summary{font-family:ui-monospace,monospace;background:#f7f7f7;padding:8px}
.subject{font-family:ui-monospace,monospace}.changes{color:#b35c00;font-size:12px}
ul.contrib{margin:4px 0;padding-left:16px;font-size:12px}
svg.plot{margin:6px 12px 6px 0;background:#fff;border:1px solid #eee}
svg .title{font-size:13px;font-weight:600}svg text{font-size:11px;fill:#444}
svg .grid{stroke:#eee}svg .axis{stroke:#999}svg .label{font-size:11px;fill:#666}
.plots{display:flex;flex-wrap:wrap}
</style>)";

}  // namespace

std::string backtest_html(const BacktestReport& r, std::size_t max_listed) {
  std::string out = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>mozaiek "
                    "backtest</title>";
  out += kStyle;
  out += "</head><body><h1>mozaiek backtest: baseline against candidate</h1>";
  out += "<p class=\"summary\">" + escape(backtest_summary(r)) + "</p>";
  out += "<p>Both rule sets ran over the same history through the same operators as the "
         "service. An <em>episode</em> is the first alert of a rule on a subject and its "
         "escalations; episodes are matched by rule, subject and their order on that subject. "
         "<em>Raised</em> is when the alert would have been raised live: the reporting time of "
         "its newest piece. Persons appear by pseudonym only.</p>";
  out += "<table><thead><tr><th></th><th>config</th><th>records</th><th>alerts</th><th>episodes"
         "</th><th>persons seen</th><th>person threshold</th></tr></thead><tbody>";
  for (const SideResult* s : {r.baseline, r.candidate}) {
    out += "<tr><td>" + escape(s->name) + "</td><td>" + escape(s->config_path) + "</td><td>" +
           count(s->records) + "</td><td>" + count(s->alerts.size()) + "</td><td>" +
           count(episodes_of(s->alerts).size()) + "</td><td>" +
           count(s->subjects_seen(SubjectType::person)) + "</td><td>" +
           fmt("%g", s->config.rule_for(SubjectType::person).threshold) + "</td></tr>";
  }
  out += "</tbody></table>";
  out += "<h2 id=\"rules\">Alerts per rule</h2><table><thead><tr><th>rule</th><th>baseline "
         "alerts (episodes)</th><th>candidate alerts (episodes)</th><th>only in candidate</th>"
         "<th>only in baseline</th><th>changed</th></tr></thead><tbody>";
  for (const auto& [rule, c] : r.rules) {
    out += "<tr><td>" + escape(rule) + "</td><td>" + count(c.baseline_alerts) + " (" +
           count(c.baseline_episodes) + ")</td><td>" + count(c.candidate_alerts) + " (" +
           count(c.candidate_episodes) + ")</td><td>" + count(c.only_candidate) + "</td><td>" +
           count(c.only_baseline) + "</td><td>" + count(c.changed) + "</td></tr>";
  }
  out += "</tbody></table>";
  out += "<div class=\"plots\">" + difference_plot(r) + delay_plot(r) + "</div>";
  out += "<h2 id=\"weekly\">Alerts per week per rule</h2><div class=\"plots\">" + weekly_plots(r) +
         "</div>";
  if (r.baseline_quality && r.candidate_quality) quality_tables(out, r);
  out += "<h2 id=\"episodes\">Episodes that differ</h2>";
  diff_table(out, r, DiffKind::only_candidate, "Only in the candidate", max_listed);
  diff_table(out, r, DiffKind::only_baseline, "Only in the baseline", max_listed);
  diff_table(out, r, DiffKind::changed, "Changed", max_listed);
  out += "</body></html>\n";
  return out;
}

}  // namespace mozaiek
