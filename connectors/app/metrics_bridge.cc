#include "connectors/app/metrics_bridge.h"

#include "operators/oversight/oversight_tracker.h"

namespace mozaiek {

PipelineLabelSets pipeline_label_sets(const Settings& settings) {
  PipelineLabelSets labels;
  for (const auto& s : settings.operators.sources) labels.sources.push_back(s.name);
  for (std::size_t r = 0; r < static_cast<std::size_t>(DlqReason::kCount); ++r) {
    labels.dlq_reasons.emplace_back(to_string(static_cast<DlqReason>(r)));
  }
  for (const auto& rule : settings.operators.rules) labels.rules.push_back(rule.name);
  for (const auto& rule : settings.operators.rules) {
    labels.rules.push_back(rule_name(rule.name, Purpose::care));
  }
  const LinkingConfig& linking = settings.operators.linking;
  for (const auto* name : {&linking.pickup_van.name, &linking.linked_persons.name,
                           &linking.address_hotspot.name, &linking.person_lift.name}) {
    labels.rules.push_back(*name);
  }
  for (auto rule : {kSlaBreachRule, kWorryingDepartureRule, kMobSpikeRule}) {
    labels.rules.emplace_back(rule);
  }
  labels.subject_types.emplace_back("melding");  // sla_breach alerts
  for (auto t : linking::kLinkTypeNames) labels.link_types.emplace_back(t);
  for (const auto& ind : settings.operators.catalogue.all()) labels.indicators.push_back(ind.code);
  ConsumerGroupLabels intake{"intake", {}};
  for (const auto& s : settings.operators.sources) {
    intake.topics.push_back(settings.topics.signals_prefix + s.name);
  }
  labels.consumer_groups.push_back(std::move(intake));
  labels.consumer_groups.push_back(ConsumerGroupLabels{"convergence", {settings.topics.subjects}});
  labels.partitions = settings.partitions;
  labels.stores = {"convergence", "oversight", "links"};
  return labels;
}

OversightLabelSets oversight_label_sets(const Settings& settings) {
  const OperatorConfig& c = settings.operators;
  OversightLabelSets labels;
  for (const auto& s : c.sources) labels.orgs.push_back(s.name);
  labels.locations = c.locations;
  labels.age_groups = c.age_groups;
  labels.regions = c.nationality_regions;
  labels.where = c.oversight.reappearance_places;
  labels.min_cell_size = c.min_cell_size;
  for (const auto& r : c.oversight.counting_rules) labels.count_rules.push_back(r.name);
  for (std::size_t t = 0; t < kChainEventTypeCount; ++t) {
    labels.event_types.emplace_back(to_string(static_cast<ChainEventType>(t)));
  }
  return labels;
}

void publish_chain_counts(const StageCounters& counters, OversightMetrics& metrics) {
  for (std::size_t t = 0; t < counters.chain_events.size(); ++t) {
    if (counters.chain_events[t] != 0) metrics.record_chain_event(t, counters.chain_events[t]);
  }
}

void publish_link_counters(LinkCounters& c, PipelineMetrics& metrics) {
  for (std::size_t i = 0; i < c.created.size(); ++i) {
    metrics.record_links(i, c.created[i], c.expired[i]);
  }
  metrics.record_notices(c.notices_sent, c.notices_received, c.notices_unmatched);
  c.reset();
}

void publish_stage_counters(StageCounters& c, Stage stage, PipelineMetrics& metrics) {
  // Records are counted in/processed/dlq once, at intake; the convergence
  // stage reports what only it knows (duplicates).
  if (stage == Stage::intake) {
    const std::size_t known = c.in.size() - 1;
    for (std::size_t i = 0; i < c.in.size(); ++i) {
      const std::size_t slot = i < known ? i : metrics.unknown_source();
      if (c.in[i] != 0) metrics.record_in(slot, c.in[i]);
      if (c.processed[i] != 0) metrics.record_processed(slot, c.processed[i]);
      for (std::size_t r = 0; r < c.dlq[i].size(); ++r) {
        if (c.dlq[i][r] != 0) metrics.record_dlq(slot, r, c.dlq[i][r]);
      }
    }
    const std::size_t row = c.indicators + 1;
    for (std::size_t k = 0; k < c.signals.size(); ++k) {
      if (c.signals[k] != 0) metrics.record_signals(k / row, k % row, c.signals[k]);
    }
  } else {
    if (c.duplicates != 0) metrics.record_duplicate(c.duplicates);
    // SubjectType order is the order of the subject type labels.
    for (std::size_t t = 0; t < c.erasures.size(); ++t) metrics.record_erasures(t, c.erasures[t]);
  }
  c.reset();
}

void publish_watermarks(const WatermarkTracker& watermarks, ProcTime now,
                        PipelineMetrics& metrics) {
  const EventTime now_event = event_time_from_ms(to_ms(now));
  for (std::size_t s = 0; s < watermarks.sources(); ++s) {
    const Watermark wm = watermarks.source_watermark(s);
    if (wm.known()) metrics.set_watermark_delay(s, to_seconds(now_event - wm.time));
    const Millis silence = watermarks.silence(s, now);
    if (silence != Millis::max()) metrics.set_source_silence(s, to_seconds(silence));
    metrics.set_source_idle(s, watermarks.is_idle(s, now));
  }
}

}  // namespace mozaiek
