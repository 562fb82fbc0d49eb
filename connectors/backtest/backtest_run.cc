#include "connectors/backtest/backtest_run.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "connectors/app/local_pipeline.h"
#include "connectors/files/ndjson_file.h"
#include "operators/model/chain_event.h"
#include "stream/state_store.h"
#include "stream/task_loop.h"

namespace mozaiek {
namespace {

// Collects what the comparison needs from the stage, on the pipeline's thread.
class SideObserver final : public ScoreObserver {
 public:
  explicit SideObserver(SideResult& out) : out_(out) {}

  void on_scored(const RoutedSignal& signal, double eligible) override {
    if (signal.purpose != Purpose::investigation) return;
    if (signal.subject_type != SubjectType::person) {
      out_.seen[static_cast<std::size_t>(signal.subject_type)].insert(signal.subject_key);
      return;
    }
    ScoreSteps& steps = out_.persons[signal.subject_key];
    if (eligible > 0 && (steps.empty() || eligible > steps.back().second)) {
      const std::int64_t known = to_ms(signal.reported_at);
      // A late signal may raise the score at a time already passed; the
      // steps stay ascending in time: it counts from when it was known.
      steps.emplace_back(std::max(known, steps.empty() ? known : steps.back().first), eligible);
    }
  }
  void on_chain(const RoutedChainEvent& routed) override {
    if (routed.entity != ChainEntity::person || !routed.event.has_person) return;
    const ChainEvent& e = routed.event;
    auto note = [&](std::unordered_map<std::string, std::int64_t>& m) {
      auto [it, fresh] = m.emplace(e.person.key, to_ms(e.at));
      if (!fresh) it->second = std::min(it->second, to_ms(e.at));
    };
    if (e.type == ChainEventType::victim_registered) note(out_.registered);
    if (e.type == ChainEventType::person_departed_unknown) note(out_.departed);
  }
  void on_alert(const Alert& alert) override { out_.alerts.push_back(alert); }

 private:
  SideResult& out_;
};

class SideTask final : public Task {
 public:
  explicit SideTask(LocalPipeline& pipeline) : pipeline_(pipeline) {}
  Status process(const RecordBatch& batch) override {
    (void)pipeline_.process(batch);
    pipeline_.maintain();
    return pipeline_.sink_status();
  }
  void batch_done(std::size_t, std::chrono::duration<double>) override {
    totals.add(pipeline_.intake().counters());
    pipeline_.intake().counters().reset();  // the stage counts per batch
  }
  Status flush() override { return pipeline_.finish(); }
  StageCounters totals{0};

 private:
  LocalPipeline& pipeline_;
};

}  // namespace

std::int64_t alert_known_at_ms(const Alert& alert) {
  return to_ms(alert.last_seen) + static_cast<std::int64_t>(alert.detection_delay_seconds * 1000);
}

Status run_side(const Settings& settings, const Pseudonymiser& pseudonymiser,
                const std::vector<std::string>& inputs, SideResult& out,
                const BacktestProgress& progress) {
  Status status = Status::ok();
  auto source = NdjsonSource::open(inputs, status);
  if (!source) return status;
  out.config = settings.operators;
  // One fixed processing time (now: signals reported later than the
  // processing time are refused): no source turns idle halfway because the
  // run happened to be slow, so both sides see the same watermarks.
  ManualClock clock(SystemClock().now());
  auto stores = make_memory_store_factory();
  LocalPipeline pipeline(settings.operators, pseudonymiser, clock, *stores, nullptr, nullptr);
  SideObserver observer(out);
  pipeline.convergence().set_score_observer(&observer);
  SideTask task(pipeline);
  task.totals = StageCounters(settings.operators.sources.size());
  SystemClock wall;
  TaskLoop loop(TaskLoopOptions{.name = "backtest",
                                .batch_records = 4096,
                                .poll_timeout = Millis{0},
                                .commit_interval = Millis::max()},
                *source, task, wall);
  if (progress) {
    loop.every(seconds(1), "progress", [&](std::size_t) {
      progress(static_cast<double>(source->consumed_bytes()) /
                   static_cast<double>(std::max<std::size_t>(1, source->total_bytes())),
               task.totals.total_in());
      return Status::ok();
    });
  }
  const auto started = std::chrono::steady_clock::now();
  const std::atomic<bool> never{false};
  if (Status s = loop.run(never); !s) return s;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out.records = task.totals.total_in();
  out.dead_letters = task.totals.total_dlq();
  return Status::ok();
}

}  // namespace mozaiek
