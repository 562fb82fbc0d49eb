#include "connectors/app/service_tasks.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>

#include "connectors/app/intake_order.h"
#include "connectors/app/metrics_bridge.h"
#include "operators/records/alert_json.h"
#include "operators/records/chain_codec.h"
#include "operators/records/chain_router.h"
#include "operators/records/entity_notice.h"
#include "operators/records/routed_codec.h"
#include "operators/records/subject_router.h"

namespace mozaiek {
namespace {

constexpr Millis kFlushTimeout = seconds(60);

// The first failed produce of a batch; the task reports it after the batch.
class FirstError {
 public:
  void note(Status s) {
    if (!s && status_) status_ = std::move(s);
  }
  Status take() { return std::exchange(status_, Status::ok()); }

 private:
  Status status_ = Status::ok();
};

void publish_lag(KafkaSource& source, const char* group, PipelineMetrics& metrics) {
  for (const auto& lag : source.lag()) {
    if (lag.lag) metrics.set_consumer_lag(group, lag.topic, lag.partition, *lag.lag);
  }
}

}  // namespace

// Intake outputs: routed signals to the internal topic, rejections sealed to
// the DLQ writer.
class IntakeTask::Output final : public IntakeOutput {
 public:
  Output(const Settings& settings, RecordSink& sink, const Clock& clock,
         DeadLetterWriter& dead_letters, std::optional<DlqKey> dlq_key)
      : settings_(settings),
        sink_(sink),
        clock_(clock),
        dead_letters_(dead_letters),
        sealer_(std::move(dlq_key), settings.dlq_max_sealed_bytes) {}
  void on_routed(const RoutedSignal& r) override {
    encode_routed(r, settings_.operators, value_);
    routing_key(r.subject_type, r.subject_key, key_);
    errors.note(sink_.produce(settings_.topics.subjects, key_, value_));
  }
  void on_routed_chain(const RoutedChainEvent& r) override {
    encode_routed_chain(r, settings_.operators, value_);
    chain_routing_key(r, key_);
    errors.note(sink_.produce(settings_.topics.subjects, key_, value_));
  }
  void on_rejected(const Rejection& rejection, const RecordView& record) override {
    const DeadLetterOrigin origin{record.topic, raw(record.partition), raw(record.offset)};
    sealer_.write(rejection, origin, record.value, clock_.now(), value_);
    dead_letters_.write(dead_letter_key(origin), value_);
  }
  FirstError errors;

 private:
  const Settings& settings_;
  RecordSink& sink_;
  const Clock& clock_;
  DeadLetterWriter& dead_letters_;
  DeadLetterSealer sealer_;
  std::string key_;
  std::string value_;
};

IntakeTask::IntakeTask(ServiceTaskContext context, const Pseudonymiser& pseudonymiser,
                       RecordSink& sink, KafkaSource& source, Committed& committed,
                       DeadLetterWriter& dead_letters, std::optional<DlqKey> dlq_key)
    : context_(std::move(context)),
      rules_(context_.rules.current()),
      rules_generation_(context_.rules.generation()),
      sink_(sink),
      source_(source),
      committed_(committed),
      dead_letters_(dead_letters),
      output_(std::make_unique<Output>(context_.settings, sink, context_.clock, dead_letters,
                                       std::move(dlq_key))),
      stage_(*rules_, pseudonymiser, context_.clock, context_.settings.topics.signals_prefix,
             *output_, context_.settings.topics.chain_events, context_.settings.topics.chain_prefix,
             context_.settings.topics.chain_events_org) {
  context_.rules.task_applied(context_.name, rules_->rules_version);
  // The watermarks travel with the committed offsets: a restart (or the next
  // owner) continues with those of exactly the committed records, so its
  // too_late decisions are those of an uninterrupted run. Sources cannot
  // change names or order in a reload, so the start-up list names them.
  source_.set_commit_metadata([this] {
    return encode_watermarks(stage_.watermarks(), context_.settings.operators.sources);
  });
  source_.set_rebalance_listener(
      [this](const TopicPartitions& assigned, const TopicPartitions& /*revoked*/) {
        if (assigned.empty()) return;
        const std::size_t n = restore_watermarks(source_.assigned_metadata(),
                                                 context_.settings.operators.sources,
                                                 stage_.watermarks(), context_.clock.now());
        if (n > 0) spdlog::info("intake: watermarks restored from {} committed offset(s)", n);
      });
}

IntakeTask::~IntakeTask() = default;

Status IntakeTask::process(const RecordBatch& batch) {
  for (const auto& r : batch.records) stage_.process(r);
  if (Status out = output_->errors.take(); !out) return Status::error("producer: " + out.message());
  return Status::ok();
}

void IntakeTask::batch_done(std::size_t records, std::chrono::duration<double> took) {
  PipelineMetrics& metrics = context_.metrics;
  metrics.observe_batch_latency(took.count() / static_cast<double>(records), records);
  pending_in_ += stage_.counters().total_in();
  pending_dlq_ += stage_.counters().total_dlq();
  pending_routed_ += stage_.counters().routed;
  publish_chain_counts(stage_.counters(), context_.oversight);
  publish_stage_counters(stage_.counters(), Stage::intake, metrics);
  context_.oversight.publish_reporting_delay(stage_.reporting_delay());
}

Status IntakeTask::flush() {
  // Nothing is committed after a failure: the records are redelivered.
  if (Status out = sink_.flush(kFlushTimeout); !out) {
    return Status::error("producer: " + out.message());
  }
  // Retried until delivered (or the service stops): a dead letter that is
  // not on the DLQ topic keeps its record's offset uncommitted.
  return dead_letters_.deliver();
}

void IntakeTask::committed() {
  committed_.in += std::exchange(pending_in_, 0);
  committed_.dlq += std::exchange(pending_dlq_, 0);
  committed_.routed += std::exchange(pending_routed_, 0);
}

void IntakeTask::on_stop(bool /*final_commit*/) { (void)sink_.flush(kFlushTimeout); }

void IntakeTask::pick_up_rules() {
  const std::uint64_t generation = context_.rules.generation();
  if (generation == rules_generation_) return;
  rules_generation_ = generation;
  auto next = context_.rules.current();
  stage_.reconfigure(*next);
  rules_ = std::move(next);
  context_.rules.task_applied(context_.name, rules_->rules_version);
  spdlog::info("intake: rules {} in force", rules_->rules_version);
}

void IntakeTask::report_lag() {
  publish_lag(source_, "intake", context_.metrics);
  publish_watermarks(stage_.watermarks(), context_.clock.now(), context_.metrics);
}

// Convergence outputs: alerts to the alerts topic, the feed and (if asked)
// stdout; entity notices to the internal topic keyed by their receiver.
class ConvergenceTask::Output final : public AlertOutput {
 public:
  Output(const Settings& settings, RecordSink& sink, AlertFeed& feed, bool print,
         PipelineMetrics& metrics)
      : settings_(settings), sink_(sink), feed_(feed), print_(print), metrics_(metrics) {}
  void on_notice(const EntityNotice& notice) override {
    encode_notice(notice, notice_value_);
    routing_key(notice.to_type, notice.to_key, notice_key_);
    errors.note(sink_.produce(settings_.topics.subjects, notice_key_, notice_value_));
  }
  void on_alert(const Alert& alert, std::string_view json) override {
    if (alert.purpose == Purpose::care) {
      // The care topic only: not the investigation topic, feed or stdout.
      errors.note(sink_.produce(settings_.topics.alerts_care, alert.alert_id, json));
      metrics_.record_alert(alert.rule, to_string(alert.subject_type), alert.level);
      return;
    }
    errors.note(sink_.produce(settings_.topics.alerts, alert.alert_id, json));
    feed_.publish(std::string(json));
    metrics_.record_alert(alert.rule, to_string(alert.subject_type), alert.level);
    if (print_) print(alert);
  }
  // Both alert topics (an erased person's care alerts go too) and the feed.
  // A v2 record is keyed by its alert id, so it follows the alert on the
  // alert's partition (a reader of that partition's tail sees both).
  void on_withdrawal(const AlertWithdrawal& withdrawal, std::string_view json) override {
    withdrawal_key(withdrawal, notice_key_);
    errors.note(sink_.produce(settings_.topics.alerts, notice_key_, json));
    errors.note(sink_.produce(settings_.topics.alerts_care, notice_key_, json));
    if (!withdrawal.per_alert()) {
      feed_.withdraw(to_string(withdrawal.subject_type), withdrawal.subject_key, withdrawal.reason);
      return;
    }
    feed_.withdraw_alert(withdrawal.alert_id, withdrawal.reason);
    metrics_.record_alert_withdrawn(withdrawal.reason);
    if (!withdrawal.reissued_as.empty()) metrics_.record_alert_reissued(withdrawal.rule);
  }
  FirstError errors;

 private:
  // One line per alert on stdout, the only thing written there.
  void print(const Alert& alert) {
    // Unanswered meldingen come by the hundred: the first few, then a tally.
    const bool breach = alert.rule == "sla_breach";
    const std::uint64_t n = breach ? ++breaches_ : 0;
    if (!breach || n <= 3) {
      std::printf("%s\n", alert_line(alert).c_str());
    } else if (n % 50 == 0) {
      std::printf("ALERTS sla_breach: %llu meldingen past their deadline without feedback so "
                  "far (each on %s)\n",
                  static_cast<unsigned long long>(n), settings_.topics.alerts.c_str());
    }
    std::fflush(stdout);
  }

  const Settings& settings_;
  RecordSink& sink_;
  AlertFeed& feed_;
  bool print_;
  PipelineMetrics& metrics_;
  std::uint64_t breaches_ = 0;
  std::string notice_key_;
  std::string notice_value_;
};

ConvergenceTask::ConvergenceTask(ServiceTaskContext context, StateStoreFactory& stores,
                                 RecordSink& sink, KafkaSource& source, AlertFeed& feed,
                                 bool print_alerts, EntityRequests& lookups,
                                 EntityLookupProbe& lookup_probe, Committed& committed,
                                 ConvergenceShare* share, std::size_t index)
    : context_(std::move(context)),
      rules_(context_.rules.current()),
      rules_generation_(context_.rules.generation()),
      sink_(sink),
      source_(source),
      lookups_(lookups),
      lookup_probe_(lookup_probe),
      committed_(committed),
      share_(share),
      index_(index),
      output_(
          std::make_unique<Output>(context_.settings, sink, feed, print_alerts, context_.metrics)),
      stage_(*rules_, stores, context_.clock, *output_),
      dispatch_(*rules_, stage_) {
  stage_.set_oversight_metrics(&context_.oversight);
  if (share_ != nullptr) stage_.share_oversight_gauges(&share_->gauges(), index_);
  listen_to_rebalances();
  context_.rules.task_applied(context_.name, rules_->rules_version);
}

ConvergenceTask::~ConvergenceTask() = default;

void ConvergenceTask::listen_to_rebalances() {
  source_.set_rebalance_listener([this](const std::vector<std::pair<std::string, int>>& assigned,
                                        const std::vector<std::pair<std::string, int>>& revoked) {
    for (const auto& [topic, p] : revoked) {
      if (Status r = stage_.revoke(Partition{p}); !r) {
        spdlog::error("revoking partition {}: {}", p, r.message());
      }
    }
    for (const auto& [topic, p] : assigned) stage_.assign(Partition{p});
  });
}

Status ConvergenceTask::process(const RecordBatch& batch) {
  for (const auto& r : batch.records) (void)dispatch_.dispatch(r.partition, r.value);
  // Undecodable records (written with a different catalogue or by a newer
  // version) are counted and logged once per batch.
  if (const std::uint64_t undecodable = dispatch_.take_undecodable(); undecodable > 0) {
    spdlog::warn("convergence: {} internal records could not be decoded", undecodable);
    context_.metrics.record_task_error("convergence", undecodable);
  }
  return output_->errors.take();
}

void ConvergenceTask::batch_done(std::size_t records, std::chrono::duration<double> took) {
  PipelineMetrics& metrics = context_.metrics;
  metrics.observe_batch_latency(took.count() / static_cast<double>(records), records);
  pending_in_ += stage_.counters().total_in();
  pending_alerts_ += stage_.counters().alerts;
  publish_stage_counters(stage_.counters(), Stage::convergence, metrics);
  publish_link_counters(stage_.link_counters(), metrics);
}

Status ConvergenceTask::flush() {
  Status out = output_->errors.take();
  if (out) out = sink_.flush(kFlushTimeout);
  if (out) out = stage_.flush();
  return out;
}

void ConvergenceTask::committed() {
  committed_.in += std::exchange(pending_in_, 0);
  committed_.alerts += std::exchange(pending_alerts_, 0);
}

void ConvergenceTask::on_stop(bool final_commit) {
  lookups_.close();
  // Without the final commit (the service failed) state is flushed anyway,
  // as the service always did: the uncommitted records come again, and the
  // operators ignore duplicates.
  if (!final_commit) {
    if (Status f = stage_.flush(); !f) spdlog::error("final state flush: {}", f.message());
  }
  (void)sink_.flush(kFlushTimeout);
}

void ConvergenceTask::serve_lookups() {
  lookup_probe_.record(lookups_.serve(stage_, sink_, context_.settings.topics.audit, context_.clock,
                                      index_, share_ != nullptr ? share_->loops() : 1));
}

Status ConvergenceTask::maintain_oversight(std::size_t uncommitted) {
  stage_.maintain_oversight();
  // With records pending, the next commit (within the interval) flushes.
  return uncommitted == 0 ? flush() : Status::ok();
}

Status ConvergenceTask::pick_up_rules(std::size_t uncommitted) {
  if (uncommitted > 0) return Status::ok();
  const std::uint64_t generation = context_.rules.generation();
  if (generation == rules_generation_) return Status::ok();
  auto next = context_.rules.current();
  if (Status s = stage_.reconfigure(*next); !s)
    return Status::error("rules reload: " + s.message());
  dispatch_.reconfigure(*next);
  rules_ = std::move(next);
  rules_generation_ = generation;
  context_.rules.task_applied(context_.name, rules_->rules_version);
  spdlog::info("convergence: rules {} in force", rules_->rules_version);
  return Status::ok();
}

void ConvergenceTask::report_lag() {
  publish_lag(source_, "convergence", context_.metrics);
  std::pair<std::size_t, std::size_t> sizes{stage_.state_entries(), stage_.link_state_entries()};
  if (share_ != nullptr) sizes = share_->sizes(index_, sizes.first, sizes.second);
  context_.metrics.set_state_entries("convergence", sizes.first);
  context_.metrics.set_state_entries("links", sizes.second);
}

void ConvergenceTask::expire(std::size_t uncommitted) {
  // As for the oversight gauges: with records pending, the next commit
  // flushes, so state never gets ahead of uncommitted input (a redelivered
  // notice would meet state that already holds it).
  const auto floor = stage_.wall_clock_floor(context_.settings.state_wall_clock_grace);
  if (stage_.expire(floor) > 0 && uncommitted == 0) {
    if (Status f = stage_.flush(); !f) spdlog::warn("expiry flush: {}", f.message());
  }
  publish_link_counters(stage_.link_counters(), context_.metrics);
}

std::pair<std::size_t, std::size_t> ConvergenceShare::sizes(std::size_t index,
                                                            std::size_t convergence,
                                                            std::size_t links) {
  std::lock_guard lock(mu_);
  if (index < sizes_.size()) sizes_[index] = {convergence, links};
  std::pair<std::size_t, std::size_t> sum{0, 0};
  for (const auto& [c, l] : sizes_) {
    sum.first += c;
    sum.second += l;
  }
  return sum;
}

}  // namespace mozaiek
