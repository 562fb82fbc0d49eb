#include "connectors/app/local_pipeline.h"

#include "operators/records/entity_notice.h"
#include "operators/records/subject_router.h"

namespace mozaiek {

LocalPipeline::LocalPipeline(const OperatorConfig& config, const Pseudonymiser& pseudonymiser,
                             const Clock& clock, StateStoreFactory& stores, RecordSink* alerts,
                             RecordSink* dlq, std::string dlq_topic, std::string alerts_topic)
    : clock_(clock),
      alerts_(alerts),
      dlq_(dlq),
      dlq_topic_(std::move(dlq_topic)),
      alerts_topic_(std::move(alerts_topic)),
      intake_(config, pseudonymiser, clock, "signals.", *this),
      convergence_(config, stores, clock, *this),
      dispatch_(config, convergence_) {
  convergence_.assign(Partition{0});
}

void LocalPipeline::on_routed(const RoutedSignal& routed) {
  convergence_.process(Partition{0}, routed);
}

// The same dispatch as the service's consumer loop, without the encoding.
void LocalPipeline::on_routed_chain(const RoutedChainEvent& routed) {
  convergence_.process_chain(Partition{0}, routed);
}

void LocalPipeline::on_rejected(const Rejection& rejection, const RecordView& record) {
  if (dlq_ == nullptr) return;
  const DeadLetterOrigin origin{record.topic, raw(record.partition), raw(record.offset)};
  sealer_.write(rejection, origin, record.value, clock_.now(), dlq_json_);
  dlq_key_ = dead_letter_key(origin);
  Status s = dlq_->produce(dlq_topic_, dlq_key_, dlq_json_);
  if (!s && sink_status_) sink_status_ = s;
}

void LocalPipeline::set_care_alerts(RecordSink* care_alerts, std::string topic) {
  care_alerts_ = care_alerts;
  care_alerts_topic_ = std::move(topic);
}

void LocalPipeline::on_alert(const Alert& alert, std::string_view json) {
  const bool care = alert.purpose == Purpose::care;
  ++(care ? care_alerts_raised_ : alerts_raised_);
  RecordSink* sink = care ? care_alerts_ : alerts_;
  if (sink == nullptr) return;
  Status s = sink->produce(care ? care_alerts_topic_ : alerts_topic_, alert.alert_id, json);
  if (!s && sink_status_) sink_status_ = s;
}

void LocalPipeline::on_withdrawal(const AlertWithdrawal& withdrawal, std::string_view json) {
  std::string key;
  withdrawal_key(withdrawal, key);
  for (auto [sink, topic] :
       {std::pair{alerts_, &alerts_topic_}, std::pair{care_alerts_, &care_alerts_topic_}}) {
    if (sink == nullptr) continue;
    Status s = sink->produce(*topic, key, json);
    if (!s && sink_status_) sink_status_ = s;
  }
}

void LocalPipeline::on_notice(const EntityNotice& notice) {
  if (internal_used_ == internal_.size()) internal_.emplace_back();
  encode_notice(notice, internal_[internal_used_++]);
}

void LocalPipeline::deliver_internal() {
  // Processing a record may queue more behind it (notices answer notices);
  // internal_ may then grow, so it is indexed afresh each time.
  for (std::size_t i = 0; i < internal_used_; ++i) {
    (void)dispatch_.dispatch(Partition{0}, internal_[i]);
  }
  internal_used_ = 0;
}

ConvergenceStage::ErasureOutcome LocalPipeline::erase(const ErasureRecord& erasure) {
  const auto outcome = convergence_.process_erasure(Partition{0}, erasure);
  deliver_internal();
  return outcome;
}

Status LocalPipeline::finish() {
  Status s = convergence_.flush();
  if (!s) return s;
  for (RecordSink* sink : {alerts_, care_alerts_}) {
    if (sink == nullptr) continue;
    s = sink->flush(seconds(30));
    if (!s) return s;
  }
  if (dlq_ != nullptr) {
    s = dlq_->flush(seconds(30));
    if (!s) return s;
  }
  return sink_status_;
}

}  // namespace mozaiek
