// StageProbe: what each stage of the service has taken in and finished, and
// how intake's event-time alignment waited, as Prometheus counters.
//
// `in` counts records a stage's loop polled, `processed` those whose
// outputs, state and offsets were committed, so in - processed is the work
// in flight and both rise together while a backlog drains (with
// mozaiek_consumer_lag falling). Fed with running totals from each loop's
// lag job (every second), on that loop's thread; one stage per thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace mozaiek {

class StageProbe {
 public:
  explicit StageProbe(prometheus::Registry& registry);

  // Running totals of one stage ("intake", "convergence").
  void report(const std::string& stage, std::uint64_t in, std::uint64_t processed);
  // Running totals of the intake source's alignment counters.
  void report_alignment(std::uint64_t holds, std::uint64_t timeouts);

 private:
  struct Stage {
    prometheus::Counter* in = nullptr;
    prometheus::Counter* processed = nullptr;
    std::uint64_t in_seen = 0;
    std::uint64_t processed_seen = 0;
  };
  Stage& stage(const std::string& name);

  prometheus::Registry& registry_;
  std::mutex mu_;  // the stages' loops run on their own threads
  std::map<std::string, Stage> stages_;
  prometheus::Counter* holds_ = nullptr;
  prometheus::Counter* timeouts_ = nullptr;
  std::uint64_t holds_seen_ = 0;
  std::uint64_t timeouts_seen_ = 0;
};

}  // namespace mozaiek
