// The chain-oversight probe: feedback latency of meldingen, reporting delay
// of signals, MOB departures and missing persons, spikes, registrations.
// Like PipelineMetrics it is the only code touching these prometheus-cpp
// series; every label value comes from a bounded configured set, and an
// index outside a set reports as "other". Person ids and pseudonyms never
// become labels: the methods take only small indices.
//
// Thread-safe (prometheus-cpp series are atomic; the lazily created
// registration series are guarded). The hot path (reporting delay of every
// signal) is collected in a HistogramBatch per batch and published with one
// update per series; chain events are rare and are counted as they happen.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace mozaiek {

class FoldedCounters;
class FoldedGauges;
class FoldedHistograms;

// Observations of one histogram family, per series, in plain numbers: the
// owner of a batch observes, the probe publishes and resets.
class HistogramBatch {
 public:
  HistogramBatch(std::vector<double> bounds, std::size_t series);
  // `series` beyond the last is counted in the last (the "other" series).
  void observe(std::size_t series, double value);
  bool empty() const { return observations_ == 0; }
  std::size_t series() const { return sums_.size(); }
  const std::vector<double>& bucket_increments(std::size_t series) const { return counts_[series]; }
  double sum(std::size_t series) const { return sums_[series]; }
  void reset();

 private:
  std::vector<double> bounds_;
  std::vector<std::vector<double>> counts_;  // per series: bounds + 1 (+Inf) increments
  std::vector<double> sums_;
  std::uint64_t observations_ = 0;
};

// Bucket upper bounds, in the histogram's unit.
std::vector<double> reporting_delay_buckets_seconds();   // 1 min .. 180 days
std::vector<double> feedback_latency_buckets_seconds();  // 1 h .. 180 days
std::vector<double> days_since_arrival_buckets();        // 1 .. 365 days

enum class FeedbackStage : std::uint8_t { ack = 0, feedback = 1 };
// Age of an open melding: lt_7d, 7_30d, 30_90d, gt_90d.
inline constexpr std::size_t kOpenAgeBuckets = 4;
std::size_t open_age_bucket(double age_days);

struct OversightLabelSets {
  std::vector<std::string> orgs;       // configured sources: from, to, reporter, source
  std::vector<std::string> locations;  // metrics.locations
  std::vector<std::string> age_groups;
  std::vector<std::string> regions;      // nationality regions
  std::vector<std::string> where;        // re-appearance places
  std::vector<std::string> count_rules;  // registration counting rules
  std::vector<std::string> event_types;  // chain event types
  int first_year = 2010;                 // registration years with their own label
  int last_year = 2035;
  // privacy.min_cell_size: series about persons show no count in 1..this-1
  // and move in steps of at least this (operators/oversight/disclosure.h).
  std::size_t min_cell_size = 5;
};

// The series about persons (MOB departures, days since arrival, departures
// without arrival, arrivals matched late, prior signals, missing,
// re-appearances, registrations, converging persons) go through disclosure
// control (disclosure.h): their coarse cells carry location "other" and
// age_group, region or where "all"; mozaiek_disclosure_folded{metric} shows
// the counts shown only in a coarser cell than their own.
class OversightMetrics {
 public:
  OversightMetrics(prometheus::Registry& registry, OversightLabelSets labels);
  ~OversightMetrics();
  OversightMetrics(const OversightMetrics&) = delete;
  OversightMetrics& operator=(const OversightMetrics&) = delete;

  const OversightLabelSets& labels() const { return labels_; }
  // Setup-time lookups; names outside a set give the "other" index.
  std::size_t org_index(std::string_view name) const;
  std::size_t location_index(std::string_view name) const;
  std::size_t where_index(std::string_view name) const;

  // A batch for mozaiek_reporting_delay_seconds, one series per org (+ other).
  HistogramBatch make_reporting_delay_batch() const;
  void publish_reporting_delay(HistogramBatch& batch);

  // ---- per chain event (rare) ----
  void record_chain_event(std::size_t type, std::uint64_t n = 1);
  void observe_feedback_latency(std::size_t from, std::size_t to, FeedbackStage stage,
                                double seconds);
  void add_unanswered(std::size_t from, std::size_t to);
  void add_mob_departure(std::size_t location, std::size_t age_group, std::size_t region);
  void observe_days_since_arrival(std::size_t age_group, double days);
  void add_departure_without_arrival(std::size_t age_group);
  // An arrival processed after the departure it precedes, which was counted
  // without one; its days are observed then.
  void add_arrival_matched_late(std::size_t age_group);
  void add_departure_with_prior_signals(std::size_t age_group);
  void add_reappearance(std::size_t where);
  void add_mob_spike(std::size_t location);

  // ---- periodic gauges, recomputed by the entity stage ----
  // counts[(from * (orgs + 1) + to) * kOpenAgeBuckets + age]
  void set_meldingen_open(const std::vector<std::int64_t>& counts);
  void set_missing_open(std::size_t age_group, std::int64_t n);
  // Unique presumed victims for one counting rule and year. dimension is
  // "total", "form", "region" or "reporter"; value the label of that
  // dimension (the others read "all").
  void set_registrations(std::size_t rule, int year, std::string_view dimension,
                         std::string_view value, std::int64_t n);
  void set_converging_persons(std::int64_t converging, std::int64_t never_registered);

 private:
  std::size_t slot(std::size_t i, std::size_t size) const { return i < size ? i : size; }
  // mozaiek_disclosure_folded of every controlled series, from their folds.
  void publish_folded();

  OversightLabelSets labels_;
  std::vector<prometheus::Counter*> chain_events_;
  prometheus::Family<prometheus::Histogram>* reporting_delay_family_ = nullptr;
  std::vector<prometheus::Histogram*> reporting_delay_;   // by org (+ other)
  std::vector<prometheus::Histogram*> feedback_latency_;  // (from * T + to) * 2 + stage
  std::vector<prometheus::Gauge*> open_;
  std::vector<prometheus::Counter*> unanswered_;  // from * T + to
  // Cells (loc * A + age) * R + region, then the coarse ones.
  std::unique_ptr<FoldedCounters> departures_;
  std::unique_ptr<FoldedHistograms> days_since_arrival_;  // by age, then "all"
  std::unique_ptr<FoldedCounters> without_arrival_;       // by age, then "all"
  std::unique_ptr<FoldedCounters> matched_late_;          // by age, then "all"
  std::unique_ptr<FoldedCounters> prior_signals_;         // by age, then "all"
  std::unique_ptr<FoldedGauges> missing_open_;            // by age, then "all"
  std::unique_ptr<FoldedCounters> reappearances_;         // by where, then "all"
  std::vector<prometheus::Counter*> spikes_;              // by location
  prometheus::Family<prometheus::Gauge>* registrations_family_ = nullptr;
  std::mutex registrations_mu_;
  std::map<std::tuple<std::size_t, int, std::string, std::string>, prometheus::Gauge*>
      registrations_;
  // True counts of the breakdown cells (not "total"), for their folded share.
  std::map<std::tuple<std::size_t, int, std::string, std::string>, std::int64_t>
      registration_counts_;
  prometheus::Family<prometheus::Gauge>* folded_family_ = nullptr;
  prometheus::Gauge* converging_ = nullptr;
  prometheus::Gauge* converging_unregistered_ = nullptr;
};

}  // namespace mozaiek
