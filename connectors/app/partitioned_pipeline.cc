#include "connectors/app/partitioned_pipeline.h"

#include <algorithm>
#include <exception>

#include "connectors/app/pseudonym_state.h"
#include "operators/records/chain_codec.h"
#include "operators/records/chain_router.h"
#include "operators/records/entity_notice.h"
#include "operators/records/routed_codec.h"
#include "operators/records/subject_router.h"

namespace mozaiek {

// One partition: its stage and what it reads and writes in an epoch. Only
// the thread running the epoch touches it between start and end.
struct PartitionedPipeline::Part final : AlertOutput {
  enum class Kind { alert, care_alert, withdrawal };
  struct Output {
    Kind kind = Kind::alert;
    std::string key;
    std::string json;
  };

  Part(PartitionedPipeline& owner, int index, StateStoreFactory& stores)
      : owner(owner),
        index(index),
        stage(std::make_unique<ConvergenceStage>(owner.config_, stores, owner.clock_, *this)),
        dispatch(std::make_unique<InternalDispatch>(owner.config_, *stage)) {
    stage->assign(Partition{index});
  }

  void on_alert(const Alert& alert, std::string_view json) override {
    if (outputs_used == outputs.size()) outputs.emplace_back();
    Output& o = outputs[outputs_used++];
    o.kind = alert.purpose == Purpose::care ? Kind::care_alert : Kind::alert;
    o.key.assign(alert.alert_id);
    o.json.assign(json);
  }
  void on_withdrawal(const AlertWithdrawal& withdrawal, std::string_view json) override {
    if (outputs_used == outputs.size()) outputs.emplace_back();
    Output& o = outputs[outputs_used++];
    o.kind = Kind::withdrawal;
    routing_key(withdrawal.subject_type, withdrawal.subject_key, o.key);
    o.json.assign(json);
  }
  void on_notice(const EntityNotice& notice) override {
    routing_key(notice.to_type, notice.to_key, key);
    const int to = murmur2_partition(key, owner.partitions());
    if (to == index) {
      if (local_used == local.size()) local.emplace_back();
      encode_notice(notice, local[local_used++]);
      return;
    }
    targets.push_back(to);
    encode_notice(notice, outgoing.next());
  }
  // Own notices, until none are left (notices answer notices). A deque:
  // dispatching may queue more without moving the one being read.
  void deliver_local() {
    for (std::size_t i = 0; i < local_used; ++i)
      (void)dispatch->dispatch(Partition{index}, local[i]);
    local_used = 0;
  }

  PartitionedPipeline& owner;
  const int index;
  std::unique_ptr<ConvergenceStage> stage;
  std::unique_ptr<InternalDispatch> dispatch;
  Buffer inbox[2];           // encoded routed records and erasures, in input order
  Buffer notices;            // from other partitions, for the next epoch to run
  Buffer outgoing;           // to other partitions, sent in the running epoch
  std::vector<int> targets;  // outgoing's partitions
  std::deque<std::string> local;
  std::size_t local_used = 0;
  std::vector<Output> outputs;
  std::size_t outputs_used = 0;
  std::string key;
};

PartitionedPipeline::PartitionedPipeline(const OperatorConfig& config,
                                         const Pseudonymiser& pseudonymiser, const Clock& clock,
                                         StateStoreFactory& stores, RecordSink* alerts,
                                         RecordSink* dlq, PartitionedOptions options,
                                         std::string dlq_topic, std::string alerts_topic)
    : config_(config),
      clock_(clock),
      alerts_(alerts),
      dlq_(dlq),
      dlq_topic_(std::move(dlq_topic)),
      alerts_topic_(std::move(alerts_topic)),
      options_(options),
      intake_(config, pseudonymiser, clock, "signals.", *this) {
  options_.partitions = std::max(1, options_.partitions);
  options_.threads = std::clamp(options_.threads, 1, options_.partitions);
  options_.epoch_records = std::max<std::size_t>(1, options_.epoch_records);
  for (int p = 0; p < options_.partitions; ++p) {
    parts_.push_back(std::make_unique<Part>(*this, p, stores));
  }
  if (options_.threads > 1) {
    for (int w = 0; w < options_.threads; ++w) workers_.emplace_back([this, w] { worker(w); });
  }
}

PartitionedPipeline::~PartitionedPipeline() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void PartitionedPipeline::set_care_alerts(RecordSink* care_alerts, std::string topic) {
  care_alerts_ = care_alerts;
  care_alerts_topic_ = std::move(topic);
}

int PartitionedPipeline::partition_of(SubjectType type, std::string_view key) const {
  std::string routing;
  routing_key(type, key, routing);
  return murmur2_partition(routing, partitions());
}

void PartitionedPipeline::on_routed(const RoutedSignal& routed) {
  routing_key(routed.subject_type, routed.subject_key, key_);
  Part& part = *parts_[static_cast<std::size_t>(murmur2_partition(key_, partitions()))];
  encode_routed(routed, config_, part.inbox[fill_].next(input_));
}

void PartitionedPipeline::on_routed_chain(const RoutedChainEvent& routed) {
  chain_routing_key(routed, key_);
  Part& part = *parts_[static_cast<std::size_t>(murmur2_partition(key_, partitions()))];
  encode_routed_chain(routed, config_, part.inbox[fill_].next(input_));
}

void PartitionedPipeline::on_rejected(const Rejection& rejection, const RecordView& record) {
  if (dlq_ == nullptr) return;
  const DeadLetterOrigin origin{record.topic, raw(record.partition), raw(record.offset)};
  sealer_.write(rejection, origin, record.value, clock_.now(), dlq_json_);
  dlq_key_ = dead_letter_key(origin);
  note(dlq_->produce(dlq_topic_, dlq_key_, dlq_json_));
}

void PartitionedPipeline::process(const RecordView& record) {
  ++input_;
  intake_.process(record);
  if (++filled_ >= options_.epoch_records) close_epoch();
}

Status PartitionedPipeline::process(const RecordBatch& batch) {
  for (const auto& r : batch.records) process(r);
  return status_;
}

void PartitionedPipeline::erase(const ErasureRecord& erasure) {
  Part& part = *parts_[static_cast<std::size_t>(partition_of(erasure.type, erasure.key))];
  encode_erasure(erasure, part.inbox[fill_].next(++input_));
}

void PartitionedPipeline::run_part(Part& part, int buffer) {
  for (std::size_t i = 0; i < part.notices.used; ++i) {
    (void)part.dispatch->dispatch(Partition{part.index}, part.notices.items[i]);
    part.deliver_local();
  }
  part.notices.used = 0;
  Buffer& in = part.inbox[buffer];
  for (std::size_t i = 0; i < in.used; ++i) {
    (void)part.dispatch->dispatch(Partition{part.index}, in.items[i]);
    if (i + 1 == in.used || in.inputs[i + 1] != in.inputs[i]) part.deliver_local();
  }
  in.used = 0;
  part.stage->maintain_oversight();
  part.deliver_local();
}

void PartitionedPipeline::worker(int index) {
  std::uint64_t seen = 0;
  for (;;) {
    int buffer = 0;
    {
      std::unique_lock lock(mu_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      buffer = fill_ ^ 1;  // fill_ changes only while no epoch runs
    }
    std::optional<Status> error;
    try {
      for (std::size_t p = static_cast<std::size_t>(index); p < parts_.size();
           p += static_cast<std::size_t>(options_.threads)) {
        run_part(*parts_[p], buffer);
      }
    } catch (const std::exception& e) {
      error = Status::error(std::string("convergence worker: ") + e.what());
    }
    {
      std::lock_guard lock(mu_);
      if (error && !worker_error_) worker_error_ = std::move(error);
      --busy_;
    }
    done_cv_.notify_all();
  }
}

void PartitionedPipeline::close_epoch() {
  wait_epoch();
  filled_ = 0;
  ++epochs_;
  if (workers_.empty()) {
    const int buffer = fill_;
    fill_ ^= 1;
    for (auto& part : parts_) run_part(*part, buffer);
    running_ = true;  // done already; its output is written by wait_epoch()
    return;
  }
  {
    std::lock_guard lock(mu_);
    fill_ ^= 1;
    busy_ = static_cast<int>(workers_.size());
    ++generation_;
    running_ = true;
  }
  start_cv_.notify_all();
}

void PartitionedPipeline::wait_epoch() {
  if (!running_) return;
  if (!workers_.empty()) {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [this] { return busy_ == 0; });
    if (worker_error_) note(*worker_error_);
  }
  running_ = false;
  for (auto& part : parts_) {
    for (std::size_t i = 0; i < part->outputs_used; ++i) {
      const Part::Output& o = part->outputs[i];
      switch (o.kind) {
        case Part::Kind::alert:
          ++alerts_raised_;
          if (alerts_ != nullptr) note(alerts_->produce(alerts_topic_, o.key, o.json));
          break;
        case Part::Kind::care_alert:
          ++care_alerts_raised_;
          if (care_alerts_ != nullptr)
            note(care_alerts_->produce(care_alerts_topic_, o.key, o.json));
          break;
        case Part::Kind::withdrawal:
          if (alerts_ != nullptr) note(alerts_->produce(alerts_topic_, o.key, o.json));
          if (care_alerts_ != nullptr)
            note(care_alerts_->produce(care_alerts_topic_, o.key, o.json));
          break;
      }
    }
    part->outputs_used = 0;
  }
  for (auto& part : parts_) {
    for (std::size_t i = 0; i < part->outgoing.used; ++i) {
      Part& to = *parts_[static_cast<std::size_t>(part->targets[i])];
      to.notices.next().swap(part->outgoing.items[i]);
    }
    part->outgoing.used = 0;
    part->targets.clear();
  }
}

bool PartitionedPipeline::work_pending() const {
  return std::any_of(parts_.begin(), parts_.end(), [this](const auto& part) {
    return part->notices.used > 0 || part->inbox[fill_].used > 0;
  });
}

Status PartitionedPipeline::finish() {
  wait_epoch();
  while (work_pending()) {
    close_epoch();
    wait_epoch();
  }
  filled_ = 0;
  for (auto& part : parts_) {
    Status s = part->stage->flush();
    if (!s) return s;
  }
  for (RecordSink* sink : {alerts_, care_alerts_, dlq_}) {
    if (sink == nullptr) continue;
    if (Status s = sink->flush(seconds(30)); !s) return s;
  }
  return status_;
}

ConvergenceStage& PartitionedPipeline::stage(int partition) {
  return *parts_[static_cast<std::size_t>(partition)]->stage;
}

Watermark PartitionedPipeline::watermark() const {
  Watermark w;
  for (const auto& part : parts_) {
    const Watermark pw = part->stage->watermark();
    if (pw.known() && (!w.known() || pw.time > w.time)) w = pw;
  }
  return w;
}

StageCounters PartitionedPipeline::convergence_counters() const {
  StageCounters sum(config_.sources.size());
  for (const auto& part : parts_) sum.add(part->stage->counters());
  return sum;
}

std::size_t PartitionedPipeline::state_entries() {
  std::size_t n = 0;
  for (auto& part : parts_) n += part->stage->state_entries();
  return n;
}

std::size_t PartitionedPipeline::link_state_entries() {
  std::size_t n = 0;
  for (auto& part : parts_) n += part->stage->link_state_entries();
  return n;
}

bool PartitionedPipeline::entity_view(SubjectType type, std::string_view key, std::string& json) {
  return stage(partition_of(type, key)).entity_view(type, key, json);
}

}  // namespace mozaiek
