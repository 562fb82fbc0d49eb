// Convergence scorer throughput: ConvergenceScorer::process() over 100k
// distinct subjects, with the state flushed (written to the store and the
// store flushed) every N records, as the task loop does before committing
// offsets; the flush is inside the timing. N is the benchmark argument:
// 4096 is a commit per small poll batch, 262144 about one commit a second
// at full speed.
//
// Traffic mix (fixed seed): 80 % person, 15 % vehicle, 5 % location
// subjects; 10 % of signals go to 1 % "hot" subjects, which run into the
// contribution bound within days; 90 % arrive within an hour, 8 % 1-14
// days late, 2 % 14-60 days late; 1 % are redeliveries (duplicates). One
// signal a minute of event time (~525k a year), so a 90-day window holds
// ~130k signals: most subjects have one or two, hot ones hit the bound.
//
//   build/mozaiek_microbench --benchmark_filter=Convergence
//
// The main() of mozaiek_microbench is at the bottom of this file.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "operators/convergence/convergence_scorer.h"
#include "operators/records/alert_json.h"
#include "stream/rocksdb_state.h"
#include "tests/support/temp_dir.h"

namespace mozaiek {
namespace {

constexpr std::size_t kSubjects = 100'000;
constexpr std::size_t kHotSubjects = 1'000;
constexpr std::size_t kSpecs = std::size_t{1} << 18;  // pre-generated, then cycled
constexpr std::size_t kWarmup = 600'000;
constexpr std::int64_t kStepMs = 60'000;
constexpr std::int64_t kStartMs = 1'704'067'200'000;  // 2024-01-01

OperatorConfig bench_config() {
  OperatorConfig c;
  // A slice of the shipped catalogue (shared/domain/indicators.yaml).
  struct Ind {
    const char* code;
    Strength strength;
    double weight;
  };
  for (const Ind& i :
       {Ind{"behaviour_change", Strength::soft, 1.0}, Ind{"often_absent", Strength::soft, 1.5},
        Ind{"many_foreign_calls", Strength::soft, 1.5},
        Ind{"unexplained_money", Strength::soft, 2.0},
        Ind{"intends_onward_travel", Strength::soft, 2.0},
        Ind{"fear_of_reprisal", Strength::soft, 2.0}, Ind{"visitor_vehicle", Strength::soft, 2.0},
        Ind{"foreign_plate_recurring", Strength::soft, 1.0},
        Ind{"overcrowded_address", Strength::soft, 2.0},
        Ind{"route_forced_work", Strength::concrete, 3.0},
        Ind{"documents_held_by_other", Strength::concrete, 3.0},
        Ind{"worrying_departure", Strength::concrete, 4.0}}) {
    c.catalogue.add({i.code, i.strength, i.weight, 0b111, 0});
  }
  for (const char* name : {"coa", "ind", "avim", "kmar", "nidos", "police", "nla", "gemeente"}) {
    SourcePolicy p;
    p.name = name;
    p.allowed_lateness = days(90);
    c.sources.push_back(p);
  }
  const char* names[] = {"person_convergence", "vehicle_convergence", "location_convergence"};
  for (std::size_t t = 0; t < kSubjectTypeCount; ++t) {
    c.rules[t].name = names[t];
    c.rules[t].subject_type = static_cast<SubjectType>(t);
  }
  c.rules[1].concrete_alone = true;
  return c;
}

// The pre-generated traffic; signals are materialised into one reused
// RoutedSignal so the loop measures the scorer, not the generator. Subject
// keys are laid out in arrival order, as they would sit in a consumed batch.
struct Workload {
  struct Spec {
    std::uint32_t subject;
    std::uint32_t key_offset;  // into arena
    std::uint8_t key_size;
    SubjectType type;
    SourceId source;
    IndicatorId indicator;
    std::int64_t late_ms;
    bool redelivery;
  };

  OperatorConfig config = bench_config();
  std::vector<std::string> keys;
  std::vector<SubjectType> types;
  std::vector<Spec> specs;
  std::string arena;

  Workload() {
    std::mt19937_64 rng(42);
    keys.reserve(kSubjects);
    types.reserve(kSubjects);
    char buf[80];
    for (std::size_t i = 0; i < kSubjects; ++i) {
      const auto roll = rng() % 100;
      if (roll < 80) {
        std::snprintf(buf, sizeof buf, "%016llx%016llx%016llx%016llx",
                      static_cast<unsigned long long>(rng()),
                      static_cast<unsigned long long>(rng()),
                      static_cast<unsigned long long>(rng()),
                      static_cast<unsigned long long>(rng()));
        types.push_back(SubjectType::person);
      } else if (roll < 95) {
        std::snprintf(buf, sizeof buf, "NL-%06llu",
                      static_cast<unsigned long long>(rng() % 1'000'000));
        types.push_back(SubjectType::vehicle);
      } else {
        std::snprintf(buf, sizeof buf, "address-%zu", i);
        types.push_back(SubjectType::location);
      }
      keys.emplace_back(buf);
    }
    specs.reserve(kSpecs);
    for (std::size_t i = 0; i < kSpecs; ++i) {
      Spec s{};
      s.subject = static_cast<std::uint32_t>(rng() % 100 < 10 ? rng() % kHotSubjects
                                                              : rng() % kSubjects);
      s.source = static_cast<SourceId>(rng() % config.sources.size());
      s.indicator = static_cast<IndicatorId>(rng() % config.catalogue.size());
      const auto late = rng() % 100;
      if (late < 90) {
        s.late_ms = static_cast<std::int64_t>(rng() % 3'600'000);
      } else if (late < 98) {
        s.late_ms = days(1).count() + static_cast<std::int64_t>(rng() % days(13).count());
      } else {
        s.late_ms = days(14).count() + static_cast<std::int64_t>(rng() % days(46).count());
      }
      s.redelivery = rng() % 100 == 0;
      s.key_offset = static_cast<std::uint32_t>(arena.size());
      s.key_size = static_cast<std::uint8_t>(keys[s.subject].size());
      s.type = types[s.subject];
      arena.append(keys[s.subject]);
      specs.push_back(s);
    }
  }

  // Fills `out` with signal number n (a redelivery leaves the previous one).
  void make(std::uint64_t n, RoutedSignal& out) const {
    const Spec& s = specs[n % kSpecs];
    if (s.redelivery && n > 0) return;
    const std::int64_t now_ms = kStartMs + static_cast<std::int64_t>(n) * kStepMs;
    out.subject_type = s.type;
    out.subject_key.assign(arena, s.key_offset, s.key_size);
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, n);
    out.signal_id.assign("sig-");
    out.signal_id.append(buf, r.ptr);
    out.source = s.source;
    out.indicator = s.indicator;
    out.strength = config.catalogue.at(s.indicator).strength;
    out.observed_at = event_time_from_ms(now_ms - s.late_ms);
    out.reported_at = event_time_from_ms(now_ms);
    out.watermark = event_time_from_ms(now_ms - hours(1).count());
  }
};

const Workload& workload() {
  static const Workload w;
  return w;
}

using test::TempDir;

// One partition's scorer state, warmed once and then fed by every run of a
// benchmark, so later runs continue the same stream.
struct Partition {
  const Workload& w = workload();
  ConvergenceScorer scorer{w.config};
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<RocksStateDb> db;
  std::unique_ptr<StateStore> store;
  std::unique_ptr<ConvergenceScorer::State> state;
  RoutedSignal signal;
  std::vector<Alert> alerts;
  std::uint64_t next = 0;
  std::uint64_t alerts_raised = 0;
  std::uint64_t duplicates = 0;
  std::string error;
  std::uint64_t flush_every = 4096;

  Partition(bool rocks, std::size_t cache_subjects) {
    if (rocks) {
      dir = std::make_unique<TempDir>("mozaiek-bench");
      Status status = Status::ok();
      db = RocksStateDb::open(dir->path(), status);
      if (!db) {
        error = status.message();
        return;
      }
      store = db->store("convergence-p0");
    } else {
      store = make_memory_store();
    }
    state = scorer.make_state(*store, cache_subjects);
    run(kWarmup);
  }
  ~Partition() {
    state.reset();
    store.reset();
    db.reset();
  }

  bool run(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      w.make(next++, signal);
      alerts.clear();
      const auto r = scorer.process(*state, signal, ProcTime{}, alerts);
      alerts_raised += alerts.size();
      duplicates += r.kind == ConvergenceScorer::Result::Kind::duplicate;
      if (flush_every != 0 && next % flush_every == 0) {
        if (Status s = scorer.flush(*state); !s) {
          error = s.message();
          return false;
        }
      }
    }
    return true;
  }
};

void run_benchmark(benchmark::State& bs, Partition& p) {
  if (!p.error.empty()) {
    bs.SkipWithError(p.error.c_str());
    return;
  }
  p.flush_every = static_cast<std::uint64_t>(bs.range(0));
  const std::uint64_t alerts_before = p.alerts_raised;
  const std::uint64_t dups_before = p.duplicates;
  for (auto _ : bs) {
    if (!p.run(1)) {
      bs.SkipWithError(p.error.c_str());
      break;
    }
  }
  bs.SetItemsProcessed(static_cast<std::int64_t>(bs.iterations()));
  const double n = static_cast<double>(std::max<std::int64_t>(1, bs.iterations()));
  bs.counters["alerts_per_1k"] = 1000.0 * static_cast<double>(p.alerts_raised - alerts_before) / n;
  bs.counters["dup_per_1k"] = 1000.0 * static_cast<double>(p.duplicates - dups_before) / n;
  bs.counters["cached"] = static_cast<double>(p.scorer.cached_subjects(*p.state));
}

void BM_ConvergenceMemoryStore(benchmark::State& bs) {
  static Partition p(false, ConvergenceScorer::kDefaultCachedSubjects);
  run_benchmark(bs, p);
}
BENCHMARK(BM_ConvergenceMemoryStore)->Arg(4096)->Arg(262144)->Arg(0)->MinTime(3.0);

void BM_ConvergenceRocksDbWarmCache(benchmark::State& bs) {
  static Partition p(true, ConvergenceScorer::kDefaultCachedSubjects);
  run_benchmark(bs, p);
}
BENCHMARK(BM_ConvergenceRocksDbWarmCache)->Arg(4096)->Arg(262144)->MinTime(3.0);

// A cache of 10k subjects for 100k: most lookups read and decode from RocksDB.
void BM_ConvergenceRocksDbSmallCache(benchmark::State& bs) {
  static Partition p(true, 10'000);
  run_benchmark(bs, p);
}
BENCHMARK(BM_ConvergenceRocksDbSmallCache)->Arg(4096)->Arg(262144)->MinTime(3.0);

// The generator alone, to subtract from the figures above.
void BM_ConvergenceGeneratorOnly(benchmark::State& bs) {
  const Workload& w = workload();
  RoutedSignal signal;
  std::uint64_t n = 0;
  for (auto _ : bs) {
    w.make(n++, signal);
    benchmark::DoNotOptimize(signal.subject_key.data());
  }
  bs.SetItemsProcessed(static_cast<std::int64_t>(bs.iterations()));
}
BENCHMARK(BM_ConvergenceGeneratorOnly);

void BM_AlertJson(benchmark::State& bs) {
  const OperatorConfig& config = workload().config;
  Alert a;
  a.alert_id = "0123456789abcdef0123456789abcdef";
  a.rule = "person_convergence";
  a.subject_key = std::string(64, 'f');
  a.score = 7.125;
  a.sources = {"coa", "ind", "police"};
  for (int i = 0; i < 8; ++i) {
    Contribution c;
    c.signal_id = "sig-" + std::to_string(i);
    c.source = static_cast<SourceId>(i % 3);
    c.indicator = static_cast<IndicatorId>(i);
    c.weight = 2.0;
    c.decayed_weight = 1.2345;
    a.contributions.push_back(c);
  }
  std::string out;
  for (auto _ : bs) {
    out.clear();
    write_alert_json(a, config, out);
    benchmark::DoNotOptimize(out.data());
  }
  bs.SetItemsProcessed(static_cast<std::int64_t>(bs.iterations()));
}
BENCHMARK(BM_AlertJson);

}  // namespace
}  // namespace mozaiek

BENCHMARK_MAIN();
