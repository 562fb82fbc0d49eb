#include "connectors/app/dead_letter_writer.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace mozaiek {

DeadLetterProbe::DeadLetterProbe(prometheus::Registry& registry) {
  failures_ = &prometheus::BuildCounter()
                   .Name("mozaiek_dlq_write_failures_total")
                   .Help("Attempts to write dead letters to the DLQ topic that failed (produce "
                         "or delivery); each is retried, and offsets wait for the delivery.")
                   .Register(registry)
                   .Add({});
  retries_ = &prometheus::BuildCounter()
                  .Name("mozaiek_dlq_write_retries_total")
                  .Help("Times the undelivered dead letters were sent again on a new producer.")
                  .Register(registry)
                  .Add({});
}

void DeadLetterProbe::record_failure() { failures_->Increment(); }
void DeadLetterProbe::record_retry() { retries_->Increment(); }

DeadLetterWriter::DeadLetterWriter(std::string topic, SinkFactory new_sink, DeadLetterProbe& probe,
                                   std::function<bool()> give_up, Options options)
    : topic_(std::move(topic)),
      new_sink_(std::move(new_sink)),
      probe_(probe),
      give_up_(std::move(give_up)),
      options_(options) {}

void DeadLetterWriter::write(std::string_view key, std::string_view value) {
  letters_.emplace_back(std::string(key), std::string(value));
  if (failed_) return;  // deliver() sends it again
  if (sink_ == nullptr) {
    Status why = Status::ok();
    sink_ = new_sink_(why);
    if (sink_ == nullptr) {
      spdlog::warn("dlq: no producer for {}, will retry: {}", topic_, why.message());
      probe_.record_failure();
      failed_ = true;
      return;
    }
  }
  if (Status s = sink_->produce(topic_, key, value); !s) {
    spdlog::warn("dlq: writing a dead letter to {} failed, will retry: {}", topic_, s.message());
    probe_.record_failure();
    failed_ = true;
    return;
  }
  ++sent_;
}

bool DeadLetterWriter::send(std::size_t from) {
  for (std::size_t i = from; i < letters_.size(); ++i) {
    if (Status s = sink_->produce(topic_, letters_[i].first, letters_[i].second); !s) {
      spdlog::warn("dlq: writing a dead letter to {} failed, will retry: {}", topic_, s.message());
      return false;
    }
    sent_ = i + 1;
  }
  if (Status s = sink_->flush(options_.flush_timeout); !s) {
    spdlog::warn("dlq: delivering dead letters to {} failed, will retry: {}", topic_, s.message());
    return false;
  }
  return true;
}

Status DeadLetterWriter::deliver() {
  if (letters_.empty()) return Status::ok();
  Millis pause = options_.first_pause;
  bool retry = failed_;
  while (true) {
    if (retry) {
      // A failed producer keeps its failure: start over on a new one.
      sink_.reset();
      sent_ = 0;
      Status why = Status::ok();
      sink_ = new_sink_(why);
      if (!sink_) spdlog::warn("dlq: no producer for {}: {}", topic_, why.message());
      probe_.record_retry();
    }
    if (sink_ != nullptr && send(sent_)) {
      letters_.clear();
      sent_ = 0;
      failed_ = false;
      return Status::ok();
    }
    probe_.record_failure();
    failed_ = true;
    retry = true;
    if (give_up_()) {
      return Status::error("dlq: " + std::to_string(letters_.size()) +
                           " dead letters not delivered to " + topic_ +
                           "; their offsets stay uncommitted");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, options_.longest_pause);
  }
}

}  // namespace mozaiek
