#include "operators/pipeline/intake_stage.h"

#include <algorithm>

#include "operators/records/chain_router.h"
#include "operators/records/subject_router.h"

namespace mozaiek {
namespace {

std::vector<Millis> idle_timeouts(const OperatorConfig& config) {
  std::vector<Millis> out;
  out.reserve(config.sources.size());
  for (const auto& s : config.sources) out.push_back(s.idle_timeout);
  return out;
}

}  // namespace

IntakeStage::IntakeStage(const OperatorConfig& config, const Pseudonymiser& pseudonymiser,
                         const Clock& clock, std::string_view signals_prefix, IntakeOutput& output,
                         std::string_view chain_topic, std::string_view chain_prefix,
                         std::string_view chain_topic_org)
    : config_(&config),
      pseudonymiser_(pseudonymiser),
      clock_(clock),
      signals_prefix_(signals_prefix),
      output_(output),
      intake_(std::make_unique<SignalIntake>(config, pseudonymiser)),
      watermarks_(idle_timeouts(config)),
      counters_(config.sources.size(), config.catalogue.size()),
      chain_topic_(chain_topic),
      chain_prefix_(chain_prefix),
      chain_topic_org_(chain_topic_org),
      chain_intake_(std::make_unique<ChainIntake>(config, pseudonymiser)),
      reporting_delay_(reporting_delay_buckets_seconds(), config.sources.size() + 1) {}

void IntakeStage::reconfigure(const OperatorConfig& config) {
  config_ = &config;
  intake_ = std::make_unique<SignalIntake>(config, pseudonymiser_);
  chain_intake_ = std::make_unique<ChainIntake>(config, pseudonymiser_);
  watermarks_.set_idle_timeouts(idle_timeouts(config));
  last_topic_.clear();
  last_topic_source_.reset();
  last_topic_unknown_ = false;
}

std::optional<SourceId> IntakeStage::source_of_topic(std::string_view topic, bool& unknown_topic) {
  if (topic.empty() || topic != last_topic_) {
    last_topic_source_ = look_up_topic(topic, last_topic_unknown_);
    last_topic_.assign(topic);
  }
  unknown_topic = last_topic_unknown_;
  return last_topic_source_;
}

std::optional<SourceId> IntakeStage::look_up_topic(std::string_view topic,
                                                   bool& unknown_topic) const {
  unknown_topic = false;
  if (topic.empty()) return std::nullopt;  // files: the signal names its source
  if (topic.size() <= signals_prefix_.size() ||
      topic.substr(0, signals_prefix_.size()) != signals_prefix_) {
    unknown_topic = true;
    return std::nullopt;
  }
  auto id = config_->find_source(topic.substr(signals_prefix_.size()));
  if (!id) unknown_topic = true;
  return id;
}

void IntakeStage::reject(const Rejection& r, std::size_t source_slot, const RecordView& record) {
  ++counters_.dlq[source_slot][static_cast<std::size_t>(r.reason)];
  output_.on_rejected(r, record);
}

void IntakeStage::process_chain(const RecordView& record, std::string_view partner) {
  auto rejection = chain_intake_->parse(record.value, chain_event_);
  if (rejection) {
    const std::size_t other = counters_.other_source();
    ++counters_.in[other];
    reject(*rejection, other, record);
    return;
  }
  if (!partner.empty() && chain_event_.org != partner) {
    // Counted under the partner that sent it, not the org it claimed.
    const auto sender = config_->find_source(partner);
    const std::size_t slot = sender ? *sender : counters_.other_source();
    ++counters_.in[slot];
    reject(Rejection{DlqReason::org_mismatch, "org"}, slot, record);
    return;
  }
  const auto org = config_->find_source(chain_event_.org);
  const std::size_t slot = org ? *org : counters_.other_source();
  ++counters_.in[slot];
  const ProcTime now = clock_.now();
  if (chain_event_.at > event_time_from_ms(to_ms(now)) + kMaxClockSkew) {
    reject(Rejection{DlqReason::bad_timestamp, "at"}, slot, record);
    return;
  }
  // Chain events move their own clock (the melding deadlines), bounded by
  // their allowed lateness; they never make a signal late.
  chain_max_at_ = std::max(chain_max_at_, chain_event_.at);
  const Watermark wm = watermarks_.current(now);
  EventTime stamp = chain_max_at_ - config_->oversight.allowed_lateness;
  if (wm.known()) stamp = std::max(stamp, wm.time);
  const std::size_t n = route_chain_event(chain_event_, stamp, routed_chain_);
  for (std::size_t i = 0; i < n; ++i) output_.on_routed_chain(routed_chain_[i]);
  counters_.routed += n;
  ++counters_.chain_events[static_cast<std::size_t>(chain_event_.type)];
  ++counters_.processed[slot];
}

void IntakeStage::process(const RecordView& record) {
  // Chain events come on their own topic, or mixed with signals in files
  // (replay), told apart by their schema.
  if (record.topic.empty() ? chain_intake_->claims_chain_schema(record.value)
                           : record.topic == chain_topic_) {
    process_chain(record, record.topic.empty() ? std::string_view() : chain_topic_org_);
    return;
  }
  if (!chain_prefix_.empty() && record.topic.size() > chain_prefix_.size() &&
      record.topic.starts_with(chain_prefix_)) {
    process_chain(record, record.topic.substr(chain_prefix_.size()));
    return;
  }
  bool unknown_topic = false;
  const auto topic_source = source_of_topic(record.topic, unknown_topic);
  const std::size_t topic_slot = topic_source ? *topic_source : counters_.other_source();
  if (unknown_topic) {
    ++counters_.in[topic_slot];
    scratch_rejection_.reason = DlqReason::unknown_topic;
    scratch_rejection_.detail = "topic";
    reject(scratch_rejection_, topic_slot, record);
    return;
  }
  auto rejection = intake_->parse(record.value, topic_source, signal_);
  if (rejection) {
    ++counters_.in[topic_slot];
    reject(*rejection, topic_slot, record);
    return;
  }
  const std::size_t slot = signal_.source;
  ++counters_.in[slot];

  const ProcTime now = clock_.now();
  const EventTime now_event = event_time_from_ms(to_ms(now));
  if (signal_.observed_at > now_event + kMaxClockSkew) {
    reject(Rejection{DlqReason::bad_timestamp, "observed_at"}, slot, record);
    return;
  }
  // Lateness is measured against the watermark, but never beyond the
  // signal's own reporting delay: when a backfill reads partitions at
  // different speeds the watermark races ahead of records that were reported
  // on time, and those must not be dead-lettered as late.
  const Watermark wm = watermarks_.current(now);
  const auto& policy = config_->sources[signal_.source];
  const EventTime position = std::min(wm.time, signal_.reported_at);
  if (wm.known() && signal_.observed_at < position - policy.allowed_lateness) {
    reject(Rejection{DlqReason::too_late, "observed_at"}, slot, record);
    return;
  }
  watermarks_.observe(signal_.source, signal_.observed_at, now);

  // The stamped watermark obeys the same bound, so the convergence stage
  // never drops state that an on-time signal of a slower partition needs.
  const Watermark after = watermarks_.current(now);
  const EventTime stamp = after.known() ? std::min(after.time, signal_.reported_at) : after.time;
  const std::size_t n = route_signal(signal_, stamp, routed_);
  for (std::size_t i = 0; i < n; ++i) output_.on_routed(routed_[i]);
  counters_.routed += n;
  ++counters_.processed[slot];
  counters_.count_signal(signal_.source, signal_.indicator);
  reporting_delay_.observe(slot,
                           std::max(0.0, to_seconds(signal_.reported_at - signal_.observed_at)));
}

}  // namespace mozaiek
