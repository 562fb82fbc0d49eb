// DeadLetterWriter: the intake task's way to the DLQ topic, on a producer of
// its own. A dead letter that cannot be delivered is retried (a fresh
// producer, everything since the last delivery sent again, growing pauses)
// and counted, never fatal; deliver() returns ok only once every dead letter
// is acknowledged, so the task commits no offset past an undelivered one.
//
// Lifecycle: made by the intake task, used on its thread only. The probe
// is registered once by the service.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stream/io.h"
#include "stream/status.h"
#include "stream/time.h"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace mozaiek {

// mozaiek_dlq_write_failures_total and mozaiek_dlq_write_retries_total.
class DeadLetterProbe {
 public:
  explicit DeadLetterProbe(prometheus::Registry& registry);
  void record_failure();
  void record_retry();

 private:
  prometheus::Counter* failures_;
  prometheus::Counter* retries_;
};

class DeadLetterWriter {
 public:
  using SinkFactory = std::function<std::unique_ptr<RecordSink>(Status& why)>;
  struct Options {
    Millis flush_timeout = seconds(30);
    Millis first_pause{100};
    Millis longest_pause = seconds(5);
  };
  // give_up: asked between attempts; true (the service stops) ends the
  // retries with an error, leaving the offsets uncommitted.
  DeadLetterWriter(std::string topic, SinkFactory new_sink, DeadLetterProbe& probe,
                   std::function<bool()> give_up, Options options);
  DeadLetterWriter(const DeadLetterWriter&) = delete;
  DeadLetterWriter& operator=(const DeadLetterWriter&) = delete;

  // Sends one dead letter; kept until deliver() has it acknowledged.
  void write(std::string_view key, std::string_view value);
  // Every dead letter since the last call acknowledged; retried until it is.
  [[nodiscard]] Status deliver();
  std::size_t undelivered() const { return letters_.size(); }

 private:
  // One attempt at producing from `from` on and flushing; false on a failure.
  bool send(std::size_t from);

  std::string topic_;
  SinkFactory new_sink_;
  DeadLetterProbe& probe_;
  std::function<bool()> give_up_;
  Options options_;
  std::unique_ptr<RecordSink> sink_;
  // Since the last delivery: key and value of each.
  std::vector<std::pair<std::string, std::string>> letters_;
  std::size_t sent_ = 0;  // letters_[0, sent_) were produced on sink_ without error
  bool failed_ = false;   // sink_ failed once: its deliveries are not to be trusted
};

}  // namespace mozaiek
