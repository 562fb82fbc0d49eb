// The pipeline-health probe: the only code that touches prometheus-cpp
// metrics (besides exposition). Every series is created up front in the
// constructor from bounded label sets, so the hot path is a pointer lookup by
// small integer index and an atomic add, never a string lookup. Indices
// outside a configured set land on the label "other".
//
// Thread-safe: task loops, the lag poller and the HTTP scrape may call
// concurrently (prometheus-cpp counters and gauges are atomic). Hot paths
// batch: they count in plain integers and add per batch.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stream/time.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace mozaiek {

// The topics one consumer group reads; lag is exported per topic partition.
struct ConsumerGroupLabels {
  std::string group;  // logical name, e.g. "intake"
  std::vector<std::string> topics;
};

// Bounded label values, in the order of the indices callers use
// (sources in SourceId order, DLQ reasons in DlqReason order, rules and
// subject types in SubjectType order).
struct PipelineLabelSets {
  std::vector<std::string> sources;
  std::vector<std::string> dlq_reasons;
  std::vector<std::string> rules;
  std::vector<std::string> indicators;  // catalogue codes, in IndicatorId order
  std::vector<std::string> subject_types{"person", "vehicle", "location"};
  std::vector<ConsumerGroupLabels> consumer_groups;
  std::int32_t partitions = 1;  // partitions 0..partitions-1 get their own label
  std::vector<std::string> stores;
  std::vector<std::string> stages{"intake", "convergence"};
  std::vector<std::string> link_types;  // by the types of a link's ends, "person_vehicle"
  std::string version = "0.1.0";
};

class PipelineMetrics {
 public:
  PipelineMetrics(prometheus::Registry& registry, PipelineLabelSets labels);
  PipelineMetrics(const PipelineMetrics&) = delete;
  PipelineMetrics& operator=(const PipelineMetrics&) = delete;

  const PipelineLabelSets& labels() const { return labels_; }

  // The source index for records whose source could not be determined
  // (unparseable, no `source` field): label "unknown".
  std::size_t unknown_source() const { return labels_.sources.size(); }

  // Setup-time lookups (not for the hot path). A name outside the set yields
  // an index that reports as "other".
  std::size_t source_index(std::string_view name) const;
  std::size_t dlq_reason_index(std::string_view name) const;
  std::size_t rule_index(std::string_view name) const;
  std::size_t subject_type_index(std::string_view name) const;
  std::size_t group_index(std::string_view name) const;
  std::size_t topic_index(std::size_t group, std::string_view topic) const;
  std::size_t store_index(std::string_view name) const;
  std::size_t stage_index(std::string_view name) const;

  // ---- per batch (hot path) ----
  void record_in(std::size_t source, std::uint64_t n);
  void record_processed(std::size_t source, std::uint64_t n);
  void record_dlq(std::size_t source, std::size_t reason, std::uint64_t n);
  void record_duplicate(std::uint64_t n);
  // Accepted signals of a configured source with a catalogue indicator.
  void record_signals(std::size_t source, std::size_t indicator, std::uint64_t n);
  void observe_processing_latency(double seconds);
  // `records` observations of `seconds_per_record` each, in one histogram update.
  void observe_batch_latency(double seconds_per_record, std::uint64_t records);

  // ---- per event (rare) ----
  // level 0 is the first alert of an episode ("new"), higher levels are escalations.
  void record_alert(std::size_t rule, std::size_t subject_type, int level);
  void record_alert(std::string_view rule, std::string_view subject_type, int level);
  // An alert withdrawal record v2 written (reason: "erasure"), and an alert
  // re-issued in place of one (by its rule).
  void record_alert_withdrawn(std::string_view reason);
  void record_alert_reissued(std::string_view rule);
  // Links between subjects (each counted once, not at both ends).
  void record_links(std::size_t link_type, std::uint64_t created, std::uint64_t expired);
  // Entity notices between linked subjects: sent, received, and received
  // for a link the receiving end no longer holds.
  void record_notices(std::uint64_t sent, std::uint64_t received, std::uint64_t unmatched);
  // Erasure requests applied, by subject type index.
  void record_erasures(std::size_t subject_type, std::uint64_t n);
  void record_task_error(std::size_t stage, std::uint64_t n = 1);
  void record_task_error(std::string_view stage, std::uint64_t n = 1);
  // The pipeline (re)started in this process: counts it and sets the start
  // time (uptime = time() - mozaiek_process_start_time_seconds).
  void record_restart();

  // ---- periodic gauges ----
  void set_consumer_lag(std::size_t group, std::size_t topic, Partition partition,
                        std::int64_t lag);
  void set_consumer_lag(std::string_view group, std::string_view topic, Partition partition,
                        std::int64_t lag);
  void set_watermark_delay(std::size_t source, double seconds);
  void set_source_silence(std::size_t source, double seconds);
  void set_source_idle(std::size_t source, bool idle);
  void set_state_entries(std::size_t store, std::uint64_t n);
  void set_state_entries(std::string_view store, std::uint64_t n);

 private:
  // Slot for an index into a set of `size` values followed by one "other" slot.
  static std::size_t slot(std::size_t i, std::size_t size) { return i < size ? i : size; }
  // Sources have configured, "unknown" and "other" slots.
  std::size_t source_slot(std::size_t i) const {
    return i <= labels_.sources.size() ? i : labels_.sources.size() + 1;
  }
  std::size_t partition_slot(Partition p) const;

  PipelineLabelSets labels_;
  std::vector<prometheus::Counter*> in_;         // by source slot
  std::vector<prometheus::Counter*> processed_;  // by source slot
  std::vector<prometheus::Counter*> dlq_;        // source slot * (reasons + 1) + reason slot
  prometheus::Counter* duplicates_ = nullptr;
  // slot(source, sources) * (indicators + 1) + slot(indicator, indicators)
  std::vector<prometheus::Counter*> signals_;
  std::vector<prometheus::Counter*> alerts_;  // (rule slot * (types + 1) + type slot) * 2 + kind
  prometheus::Counter* alerts_withdrawn_ = nullptr;
  std::vector<prometheus::Counter*> alerts_reissued_;  // by rule slot (+ other)
  prometheus::Histogram* latency_ = nullptr;
  std::vector<double> latency_bounds_;
  // lag_[group slot][topic slot * (partitions + 1) + partition slot]
  std::vector<std::vector<prometheus::Gauge*>> lag_;
  std::vector<prometheus::Gauge*> watermark_delay_;  // by source (+ other)
  std::vector<prometheus::Gauge*> silence_;
  std::vector<prometheus::Gauge*> idle_;
  std::vector<prometheus::Gauge*> state_entries_;    // by store (+ other)
  std::vector<prometheus::Counter*> task_errors_;    // by stage (+ other)
  std::vector<prometheus::Counter*> links_created_;  // by link type (+ other)
  std::vector<prometheus::Counter*> links_expired_;
  std::array<prometheus::Counter*, 3> notices_{};  // sent, received, unmatched
  std::vector<prometheus::Counter*> erasures_;     // by subject type (+ other)
  prometheus::Counter* starts_ = nullptr;
  prometheus::Gauge* start_time_ = nullptr;
};

}  // namespace mozaiek
