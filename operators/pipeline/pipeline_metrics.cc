#include "operators/pipeline/pipeline_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "stream/metric_labels.h"

namespace mozaiek {
namespace {

using metric_labels::find_index;
using metric_labels::kOther;
using metric_labels::with_other;

// 10 us .. 10 s in 1-2.5-5 steps: per-record latency is microseconds, a
// batch that waited on a slow flush is seconds.
std::vector<double> latency_buckets() {
  std::vector<double> b;
  for (int exponent = -5; exponent <= 0; ++exponent) {
    const double decade = std::pow(10.0, exponent);
    for (double m : {1.0, 2.5, 5.0}) b.push_back(decade * m);
  }
  b.push_back(10.0);
  return b;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

PipelineMetrics::PipelineMetrics(prometheus::Registry& registry, PipelineLabelSets labels)
    : labels_(std::move(labels)), latency_bounds_(latency_buckets()) {
  labels_.partitions = std::max<std::int32_t>(labels_.partitions, 0);
  std::vector<std::string> sources = labels_.sources;
  sources.emplace_back("unknown");
  sources.emplace_back(kOther);
  const auto reasons = with_other(labels_.dlq_reasons);
  const auto rules = with_other(labels_.rules);
  const auto types = with_other(labels_.subject_types);
  const auto configured_sources = with_other(labels_.sources);

  auto& in = prometheus::BuildCounter()
                 .Name("mozaiek_records_in_total")
                 .Help("Records consumed from partner topics, by source.")
                 .Register(registry);
  auto& processed = prometheus::BuildCounter()
                        .Name("mozaiek_records_processed_total")
                        .Help("Records accepted and routed by intake, by source.")
                        .Register(registry);
  auto& dlq = prometheus::BuildCounter()
                  .Name("mozaiek_records_dlq_total")
                  .Help("Records written to the dead-letter topic, by source and reason.")
                  .Register(registry);
  for (const auto& s : sources) {
    in_.push_back(&in.Add({{"source", s}}));
    processed_.push_back(&processed.Add({{"source", s}}));
    for (const auto& r : reasons) dlq_.push_back(&dlq.Add({{"source", s}, {"reason", r}}));
  }

  auto& signals = prometheus::BuildCounter()
                      .Name("mozaiek_signals_total")
                      .Help("Signals accepted by intake, by source and indicator.")
                      .Register(registry);
  for (const auto& s : configured_sources) {
    for (const auto& i : with_other(labels_.indicators)) {
      signals_.push_back(&signals.Add({{"source", s}, {"indicator", i}}));
    }
  }

  duplicates_ = &prometheus::BuildCounter()
                     .Name("mozaiek_records_duplicate_total")
                     .Help("Redelivered or repeated signals ignored by convergence (same source "
                           "and signal id for a subject).")
                     .Register(registry)
                     .Add({});

  auto& alerts = prometheus::BuildCounter()
                     .Name("mozaiek_alerts_total")
                     .Help("Alerts raised, by rule, subject type and kind (new or escalation).")
                     .Register(registry);
  for (const auto& r : rules) {
    for (const auto& t : types) {
      for (const char* kind : {"new", "escalation"}) {
        alerts_.push_back(&alerts.Add({{"rule", r}, {"subject_type", t}, {"kind", kind}}));
      }
    }
  }

  alerts_withdrawn_ = &prometheus::BuildCounter()
                           .Name("mozaiek_alerts_withdrawn_total")
                           .Help("Alert withdrawal records (v2, one alert id each) written, by "
                                 "reason; an alert withdrawn by both ends of an erased link "
                                 "counts twice.")
                           .Register(registry)
                           .Add({{"reason", "erasure"}});
  auto& reissued = prometheus::BuildCounter()
                       .Name("mozaiek_alerts_reissued_total")
                       .Help("Alerts re-issued without an erased entity they named as a link, "
                             "by rule.")
                       .Register(registry);
  for (const auto& r : rules) alerts_reissued_.push_back(&reissued.Add({{"rule", r}}));

  auto& created = prometheus::BuildCounter()
                      .Name("mozaiek_links_created_total")
                      .Help("Links created between subjects named by the same signal, by link "
                            "type (the types of its ends).")
                      .Register(registry);
  auto& expired = prometheus::BuildCounter()
                      .Name("mozaiek_links_expired_total")
                      .Help("Links dropped after the link window (or beyond the per-entity "
                            "bound), by link type.")
                      .Register(registry);
  for (const auto& t : with_other(labels_.link_types)) {
    links_created_.push_back(&created.Add({{"link_type", t}}));
    links_expired_.push_back(&expired.Add({{"link_type", t}}));
  }
  auto& notices = prometheus::BuildCounter()
                      .Name("mozaiek_entity_notices_total")
                      .Help("Notices between linked subjects on the internal topic, by kind "
                            "(sent, received, unmatched: for a link the receiver no longer "
                            "holds).")
                      .Register(registry);
  notices_ = {&notices.Add({{"kind", "sent"}}), &notices.Add({{"kind", "received"}}),
              &notices.Add({{"kind", "unmatched"}})};
  auto& erasures = prometheus::BuildCounter()
                       .Name("mozaiek_erasures_total")
                       .Help("Erasure requests applied by the partition owning the entity, by "
                             "subject type.")
                       .Register(registry);
  for (const auto& t : labels_.subject_types)
    erasures_.push_back(&erasures.Add({{"subject_type", t}}));
  erasures_.push_back(&erasures.Add({{"subject_type", "other"}}));

  latency_ = &prometheus::BuildHistogram()
                  .Name("mozaiek_processing_latency_seconds")
                  .Help("Processing time per record, from poll to flushed output.")
                  .Register(registry)
                  .Add({}, latency_bounds_);

  auto& lag = prometheus::BuildGauge()
                  .Name("mozaiek_consumer_lag")
                  .Help("Records behind the end of the partition, by consumer group, topic and "
                        "partition.")
                  .Register(registry);
  std::vector<std::string> partitions;
  partitions.reserve(static_cast<std::size_t>(std::max<std::int32_t>(labels_.partitions, 0)) + 1);
  for (std::int32_t p = 0; p < labels_.partitions; ++p) partitions.push_back(std::to_string(p));
  partitions.emplace_back(kOther);
  auto add_group = [&](const std::string& group, const std::vector<std::string>& topics) {
    std::vector<prometheus::Gauge*> row;
    for (const auto& t : topics) {
      for (const auto& p : partitions) {
        row.push_back(&lag.Add({{"group", group}, {"topic", t}, {"partition", p}}));
      }
    }
    lag_.push_back(std::move(row));
  };
  for (const auto& g : labels_.consumer_groups) add_group(g.group, with_other(g.topics));
  add_group(kOther, {kOther});

  auto& wm = prometheus::BuildGauge()
                 .Name("mozaiek_watermark_delay_seconds")
                 .Help("Processing time minus the source's event-time watermark.")
                 .Register(registry);
  auto& silence = prometheus::BuildGauge()
                      .Name("mozaiek_source_silence_seconds")
                      .Help("Wall-clock time since the source's last record.")
                      .Register(registry);
  auto& idle = prometheus::BuildGauge()
                   .Name("mozaiek_source_idle")
                   .Help("1 when the source is idle and no longer holds back the watermark.")
                   .Register(registry);
  for (const auto& s : configured_sources) {
    watermark_delay_.push_back(&wm.Add({{"source", s}}));
    silence_.push_back(&silence.Add({{"source", s}}));
    idle_.push_back(&idle.Add({{"source", s}}));
  }

  auto& entries = prometheus::BuildGauge()
                      .Name("mozaiek_state_entries")
                      .Help("Keys held in a state store.")
                      .Register(registry);
  for (const auto& s : with_other(labels_.stores)) {
    state_entries_.push_back(&entries.Add({{"store", s}}));
  }

  auto& errors = prometheus::BuildCounter()
                     .Name("mozaiek_task_errors_total")
                     .Help("Errors caught at a task loop's boundary, by stage.")
                     .Register(registry);
  for (const auto& s : with_other(labels_.stages)) {
    task_errors_.push_back(&errors.Add({{"stage", s}}));
  }

  prometheus::BuildGauge()
      .Name("mozaiek_build_info")
      .Help("Always 1; the version label says which build runs.")
      .Register(registry)
      .Add({{"version", labels_.version}})
      .Set(1);
  starts_ = &prometheus::BuildCounter()
                 .Name("mozaiek_pipeline_starts_total")
                 .Help("Times the pipeline (re)started in this process.")
                 .Register(registry)
                 .Add({});
  start_time_ = &prometheus::BuildGauge()
                     .Name("mozaiek_process_start_time_seconds")
                     .Help("Unix time at which the pipeline last started.")
                     .Register(registry)
                     .Add({});
  start_time_->Set(now_seconds());
}

std::size_t PipelineMetrics::source_index(std::string_view name) const {
  const std::size_t i = find_index(labels_.sources, name);
  return i < labels_.sources.size() ? i : labels_.sources.size() + 1;
}
std::size_t PipelineMetrics::dlq_reason_index(std::string_view name) const {
  return find_index(labels_.dlq_reasons, name);
}
std::size_t PipelineMetrics::rule_index(std::string_view name) const {
  return find_index(labels_.rules, name);
}
std::size_t PipelineMetrics::subject_type_index(std::string_view name) const {
  return find_index(labels_.subject_types, name);
}
std::size_t PipelineMetrics::store_index(std::string_view name) const {
  return find_index(labels_.stores, name);
}
std::size_t PipelineMetrics::stage_index(std::string_view name) const {
  return find_index(labels_.stages, name);
}
std::size_t PipelineMetrics::group_index(std::string_view name) const {
  const auto& g = labels_.consumer_groups;
  auto it = std::find_if(g.begin(), g.end(), [&](const auto& c) { return c.group == name; });
  return static_cast<std::size_t>(it - g.begin());
}
std::size_t PipelineMetrics::topic_index(std::size_t group, std::string_view topic) const {
  if (group >= labels_.consumer_groups.size()) return 0;  // the "other" group has one topic
  return find_index(labels_.consumer_groups[group].topics, topic);
}

std::size_t PipelineMetrics::partition_slot(Partition partition) const {
  const std::int32_t p = raw(partition);
  return p >= 0 && p < labels_.partitions ? static_cast<std::size_t>(p)
                                          : static_cast<std::size_t>(labels_.partitions);
}

void PipelineMetrics::record_in(std::size_t source, std::uint64_t n) {
  if (n) in_[source_slot(source)]->Increment(static_cast<double>(n));
}

void PipelineMetrics::record_processed(std::size_t source, std::uint64_t n) {
  if (n) processed_[source_slot(source)]->Increment(static_cast<double>(n));
}

void PipelineMetrics::record_dlq(std::size_t source, std::size_t reason, std::uint64_t n) {
  if (!n) return;
  const std::size_t reasons = labels_.dlq_reasons.size() + 1;
  dlq_[source_slot(source) * reasons + slot(reason, labels_.dlq_reasons.size())]->Increment(
      static_cast<double>(n));
}

void PipelineMetrics::record_duplicate(std::uint64_t n) {
  if (n) duplicates_->Increment(static_cast<double>(n));
}

void PipelineMetrics::record_signals(std::size_t source, std::size_t indicator, std::uint64_t n) {
  const std::size_t indicators = labels_.indicators.size();
  const std::size_t i = slot(source, labels_.sources.size()) * (indicators + 1) +
                        slot(indicator, indicators);
  if (n) signals_[i]->Increment(static_cast<double>(n));
}

void PipelineMetrics::observe_processing_latency(double seconds) { latency_->Observe(seconds); }

void PipelineMetrics::observe_batch_latency(double seconds_per_record, std::uint64_t records) {
  if (!records) return;
  // One bucket gets all observations: a single locked update per batch.
  std::vector<double> increments(latency_bounds_.size() + 1, 0.0);
  const auto it = std::lower_bound(latency_bounds_.begin(), latency_bounds_.end(),
                                   seconds_per_record);
  increments[static_cast<std::size_t>(it - latency_bounds_.begin())] = static_cast<double>(records);
  latency_->ObserveMultiple(increments, seconds_per_record * static_cast<double>(records));
}

void PipelineMetrics::record_alert(std::size_t rule, std::size_t subject_type, int level) {
  const std::size_t types = labels_.subject_types.size() + 1;
  const std::size_t i = slot(rule, labels_.rules.size()) * types +
                        slot(subject_type, labels_.subject_types.size());
  alerts_[i * 2 + (level > 0 ? 1 : 0)]->Increment();
}

void PipelineMetrics::record_alert(std::string_view rule, std::string_view subject_type,
                                   int level) {
  record_alert(rule_index(rule), subject_type_index(subject_type), level);
}

void PipelineMetrics::record_alert_withdrawn(std::string_view reason) {
  // "erasure" is the only reason so far; the label set stays bounded.
  (void)reason;
  alerts_withdrawn_->Increment();
}

void PipelineMetrics::record_alert_reissued(std::string_view rule) {
  alerts_reissued_[slot(rule_index(rule), labels_.rules.size())]->Increment();
}

void PipelineMetrics::record_task_error(std::size_t stage, std::uint64_t n) {
  if (n) task_errors_[slot(stage, labels_.stages.size())]->Increment(static_cast<double>(n));
}

void PipelineMetrics::record_task_error(std::string_view stage, std::uint64_t n) {
  record_task_error(stage_index(stage), n);
}

void PipelineMetrics::record_restart() {
  starts_->Increment();
  start_time_->Set(now_seconds());
}

void PipelineMetrics::set_consumer_lag(std::size_t group, std::size_t topic, Partition partition,
                                       std::int64_t lag) {
  const std::size_t partitions = static_cast<std::size_t>(labels_.partitions) + 1;
  std::size_t p = partition_slot(partition);
  if (group >= labels_.consumer_groups.size()) {
    lag_.back()[p]->Set(static_cast<double>(lag));
    return;
  }
  const std::size_t t = slot(topic, labels_.consumer_groups[group].topics.size());
  lag_[group][t * partitions + p]->Set(static_cast<double>(lag));
}

void PipelineMetrics::set_consumer_lag(std::string_view group, std::string_view topic,
                                       Partition partition, std::int64_t lag) {
  const std::size_t g = group_index(group);
  set_consumer_lag(g, topic_index(g, topic), partition, lag);
}

void PipelineMetrics::set_watermark_delay(std::size_t source, double seconds) {
  watermark_delay_[slot(source, labels_.sources.size())]->Set(seconds);
}

void PipelineMetrics::set_source_silence(std::size_t source, double seconds) {
  silence_[slot(source, labels_.sources.size())]->Set(seconds);
}

void PipelineMetrics::set_source_idle(std::size_t source, bool idle) {
  idle_[slot(source, labels_.sources.size())]->Set(idle ? 1.0 : 0.0);
}

void PipelineMetrics::record_links(std::size_t link_type, std::uint64_t created,
                                   std::uint64_t expired) {
  const std::size_t i = slot(link_type, labels_.link_types.size());
  if (created != 0) links_created_[i]->Increment(static_cast<double>(created));
  if (expired != 0) links_expired_[i]->Increment(static_cast<double>(expired));
}

void PipelineMetrics::record_notices(std::uint64_t sent, std::uint64_t received,
                                     std::uint64_t unmatched) {
  if (sent != 0) notices_[0]->Increment(static_cast<double>(sent));
  if (received != 0) notices_[1]->Increment(static_cast<double>(received));
  if (unmatched != 0) notices_[2]->Increment(static_cast<double>(unmatched));
}

void PipelineMetrics::record_erasures(std::size_t subject_type, std::uint64_t n) {
  if (n != 0)
    erasures_[slot(subject_type, labels_.subject_types.size())]->Increment(static_cast<double>(n));
}

void PipelineMetrics::set_state_entries(std::size_t store, std::uint64_t n) {
  state_entries_[slot(store, labels_.stores.size())]->Set(static_cast<double>(n));
}

void PipelineMetrics::set_state_entries(std::string_view store, std::uint64_t n) {
  set_state_entries(store_index(store), n);
}

}  // namespace mozaiek
