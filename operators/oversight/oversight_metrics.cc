#include "operators/oversight/oversight_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>

#include "operators/oversight/disclosure.h"
#include "stream/metric_labels.h"

namespace mozaiek {
namespace {

using metric_labels::find_index;
using metric_labels::kOther;
using metric_labels::with_other;
constexpr double kHour = 3600.0;
constexpr double kDay = 86400.0;
constexpr const char* kAll = "all";

// Cells by one label, then its "all" cell that each folds into.
template <typename Series, typename Make>
std::vector<Series*> cells_with_all(const std::vector<std::string>& values, FoldChains& folds,
                                    Make make) {
  std::vector<Series*> cells;
  for (const auto& v : values) cells.push_back(&make(v));
  cells.push_back(&make(kAll));
  folds.assign(cells.size(), std::vector<std::size_t>{values.size()});
  folds.back().clear();
  return cells;
}

}  // namespace

// ---- HistogramBatch ---------------------------------------------------------

HistogramBatch::HistogramBatch(std::vector<double> bounds, std::size_t series)
    : bounds_(std::move(bounds)),
      counts_(std::max<std::size_t>(series, 1), std::vector<double>(bounds_.size() + 1, 0.0)),
      sums_(std::max<std::size_t>(series, 1), 0.0) {}

void HistogramBatch::observe(std::size_t series, double value) {
  const std::size_t s = std::min(series, sums_.size() - 1);
  // First bucket whose upper bound is >= value (Prometheus buckets are "le").
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  counts_[s][static_cast<std::size_t>(it - bounds_.begin())] += 1.0;
  sums_[s] += value;
  ++observations_;
}

void HistogramBatch::reset() {
  for (auto& row : counts_) std::fill(row.begin(), row.end(), 0.0);
  std::fill(sums_.begin(), sums_.end(), 0.0);
  observations_ = 0;
}

std::vector<double> reporting_delay_buckets_seconds() {
  return {60,       600,       kHour,     6 * kHour, kDay,      2 * kDay,
          7 * kDay, 14 * kDay, 28 * kDay, 60 * kDay, 90 * kDay, 180 * kDay};
}

std::vector<double> feedback_latency_buckets_seconds() {
  return {kHour,     6 * kHour, kDay,      2 * kDay,  7 * kDay,
          14 * kDay, 30 * kDay, 60 * kDay, 90 * kDay, 180 * kDay};
}

std::vector<double> days_since_arrival_buckets() { return {1, 2, 7, 14, 30, 60, 90, 180, 365}; }

std::size_t open_age_bucket(double age_days) {
  if (age_days < 7) return 0;
  if (age_days < 30) return 1;
  if (age_days < 90) return 2;
  return 3;
}

// ---- OversightMetrics -------------------------------------------------------

OversightMetrics::OversightMetrics(prometheus::Registry& registry, OversightLabelSets labels)
    : labels_(std::move(labels)) {
  const auto orgs = with_other(labels_.orgs);
  const auto locations = with_other(labels_.locations);
  const auto ages = with_other(labels_.age_groups);
  const auto regions = with_other(labels_.regions);
  const auto wheres = with_other(labels_.where);
  const auto types = with_other(labels_.event_types);

  auto& chain = prometheus::BuildCounter()
                    .Name("mozaiek_chain_events_total")
                    .Help("Valid chain events routed by intake, by type.")
                    .Register(registry);
  for (const auto& t : types) chain_events_.push_back(&chain.Add({{"type", t}}));

  reporting_delay_family_ =
      &prometheus::BuildHistogram()
           .Name("mozaiek_reporting_delay_seconds")
           .Help("Time from observed_at to reported_at of every valid signal, by source.")
           .Register(registry);
  for (const auto& o : orgs) {
    reporting_delay_.push_back(
        &reporting_delay_family_->Add({{"source", o}}, reporting_delay_buckets_seconds()));
  }

  auto& latency = prometheus::BuildHistogram()
                      .Name("mozaiek_feedback_latency_seconds")
                      .Help("Time from melding.sent to its acknowledgement (stage=ack) or "
                            "feedback (stage=feedback), by sender and receiver.")
                      .Register(registry);
  auto& open = prometheus::BuildGauge()
                   .Name("mozaiek_meldingen_open")
                   .Help("Meldingen sent and still without feedback, by sender, receiver and "
                         "age (event time since sent).")
                   .Register(registry);
  auto& unanswered = prometheus::BuildCounter()
                         .Name("mozaiek_meldingen_unanswered_total")
                         .Help("Meldingen that passed the feedback deadline without feedback "
                               "(one sla_breach alert each), by sender and receiver.")
                         .Register(registry);
  for (const auto& from : orgs) {
    for (const auto& to : orgs) {
      for (const char* stage : {"ack", "feedback"}) {
        feedback_latency_.push_back(&latency.Add({{"from", from}, {"to", to}, {"stage", stage}},
                                                 feedback_latency_buckets_seconds()));
      }
      for (const char* age : {"lt_7d", "7_30d", "30_90d", "gt_90d"}) {
        open_.push_back(&open.Add({{"from", from}, {"to", to}, {"age", age}}));
      }
      unanswered_.push_back(&unanswered.Add({{"from", from}, {"to", to}}));
    }
  }

  auto& departures = prometheus::BuildCounter()
                         .Name("mozaiek_mob_departures_total")
                         .Help("Departures to an unknown destination (MOB), by location, age "
                               "group and nationality region.")
                         .Register(registry);
  {
    // Fine cells (location, age, region); a small one folds into location
    // "other", then region "all", then age group "all".
    std::vector<prometheus::Counter*> cells;
    FoldChains folds;
    for (const auto& l : locations) {
      for (const auto& a : ages) {
        for (const auto& r : regions) {
          cells.push_back(&departures.Add({{"location", l}, {"age_group", a}, {"region", r}}));
        }
      }
    }
    const std::size_t A = ages.size();
    const std::size_t R = regions.size();
    const std::size_t other = locations.size() - 1;
    const std::size_t by_age = cells.size();  // (other, age, all) per age
    for (const auto& a : ages) {
      cells.push_back(&departures.Add({{"location", kOther}, {"age_group", a}, {"region", kAll}}));
    }
    const std::size_t everything = cells.size();
    cells.push_back(&departures.Add({{"location", kOther}, {"age_group", kAll}, {"region", kAll}}));
    folds.resize(cells.size());
    for (std::size_t l = 0; l < locations.size(); ++l) {
      for (std::size_t a = 0; a < A; ++a) {
        for (std::size_t r = 0; r < R; ++r) {
          // Every chain has all three levels (a cell at "other" folds
          // into itself first), so cells folding into one coarse cell do
          // so at the same level.
          folds[(l * A + a) * R + r] = {(other * A + a) * R + r, by_age + a, everything};
        }
      }
    }
    for (std::size_t a = 0; a < A; ++a) folds[by_age + a] = {everything};
    departures_ = std::make_unique<FoldedCounters>(labels_.min_cell_size, std::move(cells),
                                                   std::move(folds));
  }
  auto& days = prometheus::BuildHistogram()
                   .Name("mozaiek_mob_days_since_arrival")
                   .Help("Days from person.arrived to the MOB departure, by age group.")
                   .Register(registry);
  auto& without = prometheus::BuildCounter()
                      .Name("mozaiek_mob_departures_without_arrival_total")
                      .Help("MOB departures of persons with no known arrival, by age group.")
                      .Register(registry);
  auto& matched_late =
      prometheus::BuildCounter()
          .Name("mozaiek_mob_arrivals_matched_late_total")
          .Help("Arrivals processed after the MOB departure they precede, which was first "
                "counted without an arrival; the difference from "
                "mozaiek_mob_departures_without_arrival_total is what stays unmatched.")
          .Register(registry);
  auto& prior = prometheus::BuildCounter()
                    .Name("mozaiek_mob_with_prior_signals_total")
                    .Help("MOB departures of persons with signals in the window before "
                          "(each raises a worrying_departure alert), by age group.")
                    .Register(registry);
  auto& missing = prometheus::BuildGauge()
                      .Name("mozaiek_missing_open")
                      .Help("Persons departed MOB and not re-appeared, by age group.")
                      .Register(registry);
  const std::size_t k = labels_.min_cell_size;
  FoldChains folds;
  auto days_cells = cells_with_all<prometheus::Histogram>(
      ages, folds, [&](const std::string& a) -> prometheus::Histogram& {
        return days.Add({{"age_group", a}}, days_since_arrival_buckets());
      });
  days_since_arrival_ = std::make_unique<FoldedHistograms>(k, std::move(days_cells),
                                                           days_since_arrival_buckets(),
                                                           ages.size());
  auto by_age = [&](prometheus::Family<prometheus::Counter>& family) {
    auto cells = cells_with_all<prometheus::Counter>(
        ages, folds, [&](const std::string& a) -> prometheus::Counter& {
          return family.Add({{"age_group", a}});
        });
    return std::make_unique<FoldedCounters>(k, std::move(cells), folds);
  };
  without_arrival_ = by_age(without);
  matched_late_ = by_age(matched_late);
  prior_signals_ = by_age(prior);
  auto missing_cells = cells_with_all<prometheus::Gauge>(
      ages, folds, [&](const std::string& a) -> prometheus::Gauge& {
        return missing.Add({{"age_group", a}});
      });
  missing_open_ = std::make_unique<FoldedGauges>(k, std::move(missing_cells), folds);
  auto& reappear = prometheus::BuildCounter()
                       .Name("mozaiek_reappearances_total")
                       .Help("Missing persons re-appeared, by where they were found.")
                       .Register(registry);
  auto where_cells = cells_with_all<prometheus::Counter>(
      wheres, folds, [&](const std::string& w) -> prometheus::Counter& {
        return reappear.Add({{"where", w}});
      });
  reappearances_ = std::make_unique<FoldedCounters>(k, std::move(where_cells), folds);
  auto& spikes = prometheus::BuildCounter()
                     .Name("mozaiek_mob_spikes_total")
                     .Help("MOB departure spikes against the location's own baseline (one "
                           "mob_spike alert each), by location.")
                     .Register(registry);
  for (const auto& l : locations) spikes_.push_back(&spikes.Add({{"location", l}}));

  registrations_family_ =
      &prometheus::BuildGauge()
           .Name("mozaiek_registrations_unique")
           .Help("Unique presumed victims registered (victim.registered, de-duplicated by "
                 "pseudonym across reporters) per counting rule and year; one breakdown at a "
                 "time: form, region or reporter, the others \"all\".")
           .Register(registry);
  converging_ = &prometheus::BuildGauge()
                     .Name("mozaiek_converging_persons")
                     .Help("Persons whose signals converged into an alert.")
                     .Register(registry)
                     .Add({});
  converging_unregistered_ =
      &prometheus::BuildGauge()
           .Name("mozaiek_converging_persons_unregistered")
           .Help("Persons whose signals converged into an alert and who were never registered "
                 "as presumed victims (share = this / mozaiek_converging_persons).")
           .Register(registry)
           .Add({});
  folded_family_ = &prometheus::BuildGauge()
                        .Name("mozaiek_disclosure_folded")
                        .Help("Disclosure control (privacy.min_cell_size): counts of a series "
                              "about persons shown only in a coarser cell than their own "
                              "(location \"other\", region, age group or where \"all\"), rounded "
                              "down to a multiple of the minimum cell size; the cost in lost "
                              "detail.")
                        .Register(registry);
  prometheus::BuildGauge()
      .Name("mozaiek_disclosure_min_cell_size")
      .Help("privacy.min_cell_size: no cell of a series about persons shows a count between 1 "
            "and this minus one; such series move in steps of at least this.")
      .Register(registry)
      .Add({})
      .Set(static_cast<double>(k));
  publish_folded();
}

OversightMetrics::~OversightMetrics() = default;

void OversightMetrics::publish_folded() {
  std::int64_t registrations = 0;
  {
    std::lock_guard lock(registrations_mu_);
    for (const auto& [key, n] : registration_counts_) {
      registrations += n - disclosed(n, static_cast<std::int64_t>(labels_.min_cell_size));
    }
  }
  const std::pair<const char*, double> folded[] = {
      {"mozaiek_mob_departures_total", static_cast<double>(departures_->folded())},
      {"mozaiek_mob_days_since_arrival", static_cast<double>(days_since_arrival_->folded())},
      {"mozaiek_mob_departures_without_arrival_total",
       static_cast<double>(without_arrival_->folded())},
      {"mozaiek_mob_arrivals_matched_late_total", static_cast<double>(matched_late_->folded())},
      {"mozaiek_mob_with_prior_signals_total", static_cast<double>(prior_signals_->folded())},
      {"mozaiek_missing_open", static_cast<double>(missing_open_->folded())},
      {"mozaiek_reappearances_total", static_cast<double>(reappearances_->folded())},
      // Shown in the "total" cell of their rule and year only.
      {"mozaiek_registrations_unique", static_cast<double>(registrations)},
  };
  // In steps of the minimum too: the cost metric must not single anyone out.
  const auto k = static_cast<std::int64_t>(labels_.min_cell_size);
  for (const auto& [metric, n] : folded) {
    folded_family_->Add({{"metric", metric}})
        .Set(static_cast<double>(disclosed(static_cast<std::int64_t>(n), k)));
  }
}

std::size_t OversightMetrics::org_index(std::string_view name) const {
  return find_index(labels_.orgs, name);
}
std::size_t OversightMetrics::location_index(std::string_view name) const {
  return find_index(labels_.locations, name);
}
std::size_t OversightMetrics::where_index(std::string_view name) const {
  return find_index(labels_.where, name);
}

HistogramBatch OversightMetrics::make_reporting_delay_batch() const {
  return HistogramBatch(reporting_delay_buckets_seconds(), labels_.orgs.size() + 1);
}

void OversightMetrics::publish_reporting_delay(HistogramBatch& batch) {
  if (batch.empty()) return;
  for (std::size_t s = 0; s < batch.series() && s < reporting_delay_.size(); ++s) {
    const double sum = batch.sum(s);
    const auto& inc = batch.bucket_increments(s);
    bool any = false;
    for (double v : inc) any = any || v != 0.0;
    if (any) reporting_delay_[s]->ObserveMultiple(inc, sum);
  }
  batch.reset();
}

void OversightMetrics::record_chain_event(std::size_t type, std::uint64_t n) {
  chain_events_[slot(type, labels_.event_types.size())]->Increment(static_cast<double>(n));
}

void OversightMetrics::observe_feedback_latency(std::size_t from, std::size_t to,
                                                FeedbackStage stage, double seconds) {
  const std::size_t n = labels_.orgs.size() + 1;
  const std::size_t i = (slot(from, n - 1) * n + slot(to, n - 1)) * 2 +
                        static_cast<std::size_t>(stage);
  feedback_latency_[i]->Observe(seconds);
}

void OversightMetrics::add_unanswered(std::size_t from, std::size_t to) {
  const std::size_t n = labels_.orgs.size() + 1;
  unanswered_[slot(from, n - 1) * n + slot(to, n - 1)]->Increment();
}

void OversightMetrics::add_mob_departure(std::size_t location, std::size_t age_group,
                                         std::size_t region) {
  const std::size_t a = labels_.age_groups.size() + 1;
  const std::size_t r = labels_.regions.size() + 1;
  const std::size_t i = (slot(location, labels_.locations.size()) * a + slot(age_group, a - 1)) *
                            r +
                        slot(region, r - 1);
  departures_->add(i);
  publish_folded();
}

void OversightMetrics::observe_days_since_arrival(std::size_t age_group, double days) {
  days_since_arrival_->observe(slot(age_group, labels_.age_groups.size()), days);
  publish_folded();
}

void OversightMetrics::add_departure_without_arrival(std::size_t age_group) {
  without_arrival_->add(slot(age_group, labels_.age_groups.size()));
  publish_folded();
}

void OversightMetrics::add_arrival_matched_late(std::size_t age_group) {
  matched_late_->add(slot(age_group, labels_.age_groups.size()));
  publish_folded();
}

void OversightMetrics::add_departure_with_prior_signals(std::size_t age_group) {
  prior_signals_->add(slot(age_group, labels_.age_groups.size()));
  publish_folded();
}

void OversightMetrics::add_reappearance(std::size_t where) {
  reappearances_->add(slot(where, labels_.where.size()));
  publish_folded();
}

void OversightMetrics::add_mob_spike(std::size_t location) {
  spikes_[slot(location, labels_.locations.size())]->Increment();
}

void OversightMetrics::set_meldingen_open(const std::vector<std::int64_t>& counts) {
  for (std::size_t i = 0; i < open_.size(); ++i) {
    open_[i]->Set(i < counts.size() ? static_cast<double>(counts[i]) : 0.0);
  }
}

void OversightMetrics::set_missing_open(std::size_t age_group, std::int64_t n) {
  missing_open_->set(slot(age_group, labels_.age_groups.size()), n);
  publish_folded();
}

void OversightMetrics::set_registrations(std::size_t rule, int year, std::string_view dimension,
                                         std::string_view value, std::int64_t n) {
  const std::size_t r = slot(rule, labels_.count_rules.size());
  const int y = year >= labels_.first_year && year <= labels_.last_year ? year : 0;
  const auto k = static_cast<std::int64_t>(labels_.min_cell_size);
  std::unique_lock lock(registrations_mu_);
  auto key = std::make_tuple(r, y, std::string(dimension), std::string(value));
  if (dimension != "total") registration_counts_[key] = n;
  auto it = registrations_.find(key);
  if (it == registrations_.end()) {
    if (disclosed(n, k) == 0) return;  // no series for counts never shown
    const std::string rule_label = r < labels_.count_rules.size() ? labels_.count_rules[r] : kOther;
    const std::string year_label = y == 0 ? std::string(kOther) : std::to_string(y);
    std::map<std::string, std::string> l{{"count", rule_label},
                                         {"year", year_label},
                                         {"form", "all"},
                                         {"region", "all"},
                                         {"reporter", "all"}};
    if (dimension != "total") l[std::string(dimension)] = std::string(value);
    it = registrations_.emplace(key, &registrations_family_->Add(l)).first;
  }
  it->second->Set(static_cast<double>(disclosed(n, k)));
  lock.unlock();
  publish_folded();
}

void OversightMetrics::set_converging_persons(std::int64_t converging,
                                              std::int64_t never_registered) {
  const auto k = static_cast<std::int64_t>(labels_.min_cell_size);
  converging_->Set(static_cast<double>(disclosed(converging, k)));
  converging_unregistered_->Set(static_cast<double>(disclosed(never_registered, k)));
}

}  // namespace mozaiek
