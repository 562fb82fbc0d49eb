// Intake throughput: IntakeStage::process() over synthetic partner signals
// (the generator of `mozaiek bench`, shipped config, demo key), so parsing,
// validation, normalisation, pseudonymisation and routing are timed without
// the convergence stage. IntakeEncode adds the internal-record encoding the
// service produces to mozaiek.internal.subjects for each routed subject.
//
//   build/mozaiek_microbench --benchmark_filter=Intake
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "connectors/app/cli/commands.h"
#include "connectors/app/settings.h"
#include "connectors/synthetic/synthetic_traffic.h"
#include "operators/pipeline/intake_stage.h"
#include "operators/records/routed_codec.h"

namespace mozaiek {
namespace {

constexpr std::size_t kRecords = 100'000;

struct IntakeFixture {
  Settings settings;
  std::vector<OutRecord> records;
  bool ok = false;

  IntakeFixture() {
    std::vector<std::string> errors;
    if (!load_settings(cli::default_config_path(), settings, errors)) {
      for (const auto& e : errors) std::fprintf(stderr, "config: %s\n", e.c_str());
      return;
    }
    // The seed of `mozaiek bench --mode inprocess`.
    records = generate_records(benchmark_traffic(settings.operators, kRecords, 7),
                               settings.operators.catalogue, kRecords);
    ok = true;
  }
};

const IntakeFixture& fixture() {
  static const IntakeFixture f;
  return f;
}

// Counts what intake hands on; optionally encodes routed signals as the
// service's internal-topic producer does.
class CountingOutput final : public IntakeOutput {
 public:
  CountingOutput(const OperatorConfig& config, bool encode) : config_(config), encode_(encode) {}
  void on_routed(const RoutedSignal& routed) override {
    ++routed_;
    if (encode_) {
      encode_routed(routed, config_, bytes_);
      encoded_bytes_ += bytes_.size();
    }
  }
  void on_routed_chain(const RoutedChainEvent&) override { ++routed_; }
  void on_rejected(const Rejection&, const RecordView&) override { ++rejected_; }

  std::uint64_t routed_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t encoded_bytes_ = 0;

 private:
  const OperatorConfig& config_;
  bool encode_;
  std::string bytes_;
};

void run_intake(benchmark::State& state, bool encode) {
  const IntakeFixture& f = fixture();
  if (!f.ok) {
    state.SkipWithError("could not load the shipped config");
    return;
  }
  Pseudonymiser pseudonymiser(kDemoPseudonymKey);
  SystemClock clock;
  CountingOutput output(f.settings.operators, encode);
  IntakeStage stage(f.settings.operators, pseudonymiser, clock, "signals.", output);
  RecordView view;
  std::size_t i = 0;
  for (auto _ : state) {
    const OutRecord& r = f.records[i];
    view.topic = r.topic;
    view.key = r.key;
    view.value = r.value;
    stage.process(view);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["routed_per_signal"] = static_cast<double>(output.routed_) /
                                        static_cast<double>(state.iterations());
  state.counters["dlq"] = static_cast<double>(output.rejected_);
}

void BM_Intake(benchmark::State& state) { run_intake(state, false); }
void BM_IntakeEncode(benchmark::State& state) { run_intake(state, true); }

// One pass over the records per run: cycling would let the watermark make
// the second pass too late.
BENCHMARK(BM_Intake)->Iterations(kRecords)->Repetitions(3)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_IntakeEncode)->Iterations(kRecords)->Repetitions(3)->Unit(benchmark::kNanosecond);

}  // namespace
}  // namespace mozaiek
