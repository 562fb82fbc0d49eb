// RequestProducer: the Kafka producer an HTTP API writes through, shared by
// its request threads. Made on first use, used by one request at a time,
// and made anew after a failed write: a producer's delivery failure is
// sticky, so one outage must not refuse every later request.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <utility>

#include "stream/io.h"
#include "stream/status.h"

namespace mozaiek {

class RequestProducer {
 public:
  // Opens a producer; null (with `status` saying why) when it cannot.
  using SinkFactory = std::function<std::unique_ptr<RecordSink>(Status& status)>;

  explicit RequestProducer(SinkFactory make) : make_(std::move(make)) {}

  // Runs `write` with the producer, under the lock; a failed write (or no
  // producer) is returned and the producer dropped for the next request.
  template <class Write>
  Status write(Write&& write) {
    std::lock_guard lock(mu_);
    if (!sink_) {
      Status s = Status::ok();
      sink_ = make_(s);
      if (!sink_) return s.is_ok() ? Status::error("no producer") : s;
    }
    Status s = write(*sink_);
    if (!s) sink_.reset();
    return s;
  }

 private:
  SinkFactory make_;
  std::mutex mu_;
  std::unique_ptr<RecordSink> sink_;  // null until first use and after a failure
};

}  // namespace mozaiek
