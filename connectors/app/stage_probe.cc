#include "connectors/app/stage_probe.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <algorithm>

namespace mozaiek {
namespace {

// Adds what a running total grew by since it was last seen.
void advance(prometheus::Counter& counter, std::uint64_t total, std::uint64_t& seen) {
  if (total > seen) counter.Increment(static_cast<double>(total - seen));
  seen = std::max(seen, total);
}

}  // namespace

StageProbe::StageProbe(prometheus::Registry& registry) : registry_(registry) {
  holds_ = &prometheus::BuildCounter()
                .Name("mozaiek_alignment_holds_total")
                .Help("Intake polls that handed out nothing because a partner partition not at "
                      "its end had nothing fetched yet (event-time alignment waiting).")
                .Register(registry)
                .Add({});
  timeouts_ = &prometheus::BuildCounter()
                   .Name("mozaiek_alignment_timeouts_total")
                   .Help("Partner partitions intake stopped waiting for after "
                         "kafka.alignment_wait_ms; their records may then meet a watermark "
                         "ahead of them.")
                   .Register(registry)
                   .Add({});
  // Both stages from the start, so a dashboard sees zeros, not gaps.
  (void)stage("intake");
  (void)stage("convergence");
}

StageProbe::Stage& StageProbe::stage(const std::string& name) {
  auto it = stages_.find(name);
  if (it != stages_.end()) return it->second;
  Stage s;
  s.in = &prometheus::BuildCounter()
              .Name("mozaiek_stage_records_in_total")
              .Help("Records a stage's loop polled from its input topics.")
              .Register(registry_)
              .Add({{"stage", name}});
  s.processed = &prometheus::BuildCounter()
                     .Name("mozaiek_stage_records_processed_total")
                     .Help("Records a stage finished: outputs delivered, state written and "
                           "offsets committed.")
                     .Register(registry_)
                     .Add({{"stage", name}});
  return stages_.emplace(name, s).first->second;
}

void StageProbe::report(const std::string& name, std::uint64_t in, std::uint64_t processed) {
  std::lock_guard lock(mu_);
  Stage& s = stage(name);
  advance(*s.in, in, s.in_seen);
  advance(*s.processed, processed, s.processed_seen);
}

void StageProbe::report_alignment(std::uint64_t holds, std::uint64_t timeouts) {
  std::lock_guard lock(mu_);
  advance(*holds_, holds, holds_seen_);
  advance(*timeouts_, timeouts, timeouts_seen_);
}

}  // namespace mozaiek
