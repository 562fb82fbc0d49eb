// `mozaiek replay`: runs the operators over NDJSON files, no broker needed.
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <thread>

#include "connectors/app/cli/commands.h"
#include "connectors/app/local_pipeline.h"
#include "connectors/app/metrics_bridge.h"
#include "connectors/app/partitioned_pipeline.h"
#include "connectors/app/pseudonym_state.h"
#include "connectors/app/settings.h"
#include "connectors/files/ndjson_file.h"
#include "operators/linking/entity_view.h"
#include "stream/json_writer.h"
#include "stream/rocksdb_state.h"
#include "stream/task_loop.h"

namespace mozaiek::cli {
namespace {

struct ReplayOptions {
  std::string config;
  std::vector<std::string> inputs;
  std::string output;
  std::string care_output;  // care-purpose alerts; empty: counted only
  std::string dlq;
  std::string metrics_out;
  std::string state_dir;
  std::vector<std::string> entities;  // "<type>:<key>"
  std::vector<std::string> erasures;  // "<type>:<key>", applied after the input
  std::string entity_out;
  bool demo_key = false;
  // Partitions of the internal topic the replay runs (1: LocalPipeline, as
  // before) and the threads that run them (partitioned_pipeline.h).
  int partitions = 1;
  int threads = 0;  // 0: the machine's cores
  std::size_t epoch_records = PartitionedOptions{}.epoch_records;
};

// "vehicle:FR-AB123CD" -> (vehicle, "FR-AB123CD"); persons by pseudonym only.
std::optional<std::pair<SubjectType, std::string>> parse_entity(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon + 1 == text.size()) return std::nullopt;
  const auto type = subject_type_from(std::string_view(text).substr(0, colon));
  if (!type) return std::nullopt;
  std::string key = text.substr(colon + 1);
  if (*type == SubjectType::person &&
      (key.size() != 64 || key.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    return std::nullopt;
  }
  return std::pair{*type, std::move(key)};
}

std::string dlq_breakdown(const StageCounters& c) {
  std::string out;
  for (std::size_t r = 0; r < static_cast<std::size_t>(DlqReason::kCount); ++r) {
    std::uint64_t n = 0;
    for (const auto& row : c.dlq) n += row[r];
    if (n == 0) continue;
    if (!out.empty()) out += ", ";
    out += std::string(to_string(static_cast<DlqReason>(r))) + " " + std::to_string(n);
  }
  return out.empty() ? "" : " (" + out + ")";
}

// The replay as a task: the local pipeline per batch, then oversight
// maintenance and the metrics a service would publish.
class ReplayTask final : public Task {
 public:
  ReplayTask(LocalPipeline& pipeline, PipelineMetrics& metrics, OversightMetrics& oversight,
             std::size_t sources)
      : totals(sources),
        conv_totals(sources),
        pipeline_(pipeline),
        metrics_(metrics),
        oversight_(oversight) {}
  Status process(const RecordBatch& batch) override {
    (void)pipeline_.process(batch);
    pipeline_.maintain();
    return pipeline_.sink_status();
  }
  void batch_done(std::size_t, std::chrono::duration<double>) override {
    totals.add(pipeline_.intake().counters());
    conv_totals.add(pipeline_.convergence().counters());
    publish_chain_counts(pipeline_.intake().counters(), oversight_);
    oversight_.publish_reporting_delay(pipeline_.intake().reporting_delay());
    publish_stage_counters(pipeline_.intake().counters(), Stage::intake, metrics_);
    publish_stage_counters(pipeline_.convergence().counters(), Stage::convergence, metrics_);
    publish_link_counters(pipeline_.convergence().link_counters(), metrics_);
  }
  Status flush() override { return pipeline_.finish(); }

  StageCounters totals;
  StageCounters conv_totals;

 private:
  LocalPipeline& pipeline_;
  PipelineMetrics& metrics_;
  OversightMetrics& oversight_;
};

// What a replay reads and writes. Stores before the database that owns them.
struct ReplayIo {
  std::unique_ptr<NdjsonSource> source;
  std::unique_ptr<NdjsonSink> alerts;
  std::unique_ptr<NdjsonSink> care_alerts;
  std::unique_ptr<NdjsonSink> dlq;
  std::unique_ptr<RocksStateDb> db;
  std::unique_ptr<StateStoreFactory> stores;
};

Status open_io(const ReplayOptions& o, int key_version, ReplayIo& io) {
  Status status = Status::ok();
  io.source = NdjsonSource::open(o.inputs, status);
  if (io.source) io.alerts = NdjsonSink::open(o.output, status);
  if (!io.alerts) return status;
  if (!o.care_output.empty()) {
    io.care_alerts = NdjsonSink::open(o.care_output, status);
    if (!io.care_alerts) return status;
  }
  if (!o.dlq.empty()) {
    io.dlq = NdjsonSink::open(o.dlq, status);
    if (!io.dlq) return status;
  }
  if (o.state_dir.empty()) {
    io.stores = make_memory_store_factory();
    return Status::ok();
  }
  io.db = RocksStateDb::open(o.state_dir, status);
  if (!io.db) return status;
  io.stores = io.db->factory();
  // Replay keeps everything on partition 0 unless --partitions says otherwise.
  return check_state_key_version(*io.stores, o.partitions, key_version, o.state_dir);
}

// Every file through the task on a TaskLoop, with progress on stderr.
Status run_replay_loop(NdjsonSource& source, ReplayTask& task) {
  SystemClock wall;
  // One flush, when the input ends (commit_interval: never before).
  TaskLoop loop(TaskLoopOptions{.name = "replay",
                                .batch_records = 4096,
                                .poll_timeout = Millis{0},
                                .commit_interval = Millis::max()},
                source, task, wall);
  loop.every(seconds(2), "progress", [&](std::size_t) {
    std::fprintf(stderr, "replay: %.0f%% (%llu records)\n",
                 100.0 * static_cast<double>(source.consumed_bytes()) /
                     static_cast<double>(std::max<std::size_t>(1, source.total_bytes())),
                 static_cast<unsigned long long>(task.totals.total_in()));
    return Status::ok();
  });
  const std::atomic<bool> never{false};
  return loop.run(never);
}

Status write_metrics(const std::string& path, prometheus::Registry& registry) {
  if (path.empty()) return Status::ok();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << prometheus::TextSerializer().Serialize(registry.Collect());
  return out ? Status::ok() : Status::error("cannot write " + path);
}

void print_summary(const StageCounters& totals, std::uint64_t duplicates, std::uint64_t alerts,
                   double secs) {
  std::printf("replay: %llu in, %llu processed, %llu dlq%s, %llu duplicates, %llu alerts in %.2f s "
              "(%.0f records/s)\n",
              static_cast<unsigned long long>(totals.total_in()),
              static_cast<unsigned long long>(totals.total_processed()),
              static_cast<unsigned long long>(totals.total_dlq()), dlq_breakdown(totals).c_str(),
              static_cast<unsigned long long>(duplicates), static_cast<unsigned long long>(alerts),
              secs, static_cast<double>(totals.total_in()) / std::max(secs, 1e-9));
}

// One entity view per line, at the final watermark, to path or stdout.
template <typename ViewOf>
Status write_entity_views(const std::vector<std::pair<SubjectType, std::string>>& entities,
                          ViewOf&& view_of, const std::string& path) {
  if (entities.empty()) return Status::ok();
  std::string views, json;
  for (const auto& [type, entity_key] : entities) {
    if (view_of(type, entity_key, json)) {
      views += json;
    } else {
      JsonWriter w(views);
      w.begin_object().key("schema").string(kEntitySchema).key("subject").begin_object();
      w.key("type").string(to_string(type)).key("key").string(entity_key).end_object();
      w.key("found").boolean(false).end_object();
    }
    views += '\n';
  }
  if (path.empty()) {
    std::fwrite(views.data(), 1, views.size(), stdout);
    return Status::ok();
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << views;
  return out ? Status::ok() : Status::error("cannot write " + path);
}

// Settings, key and --entity arguments; false after printing why not.
bool load_replay_inputs(const ReplayOptions& o, Settings& settings, std::string& key,
                        std::vector<std::pair<SubjectType, std::string>>& entities,
                        std::vector<std::pair<SubjectType, std::string>>& erasures) {
  std::vector<std::string> errors;
  if (!load_settings(o.config, settings, errors)) {
    for (const auto& e : errors) std::fprintf(stderr, "config error: %s\n", e.c_str());
    return false;
  }
  if (Status s = load_pseudonym_key(settings, o.demo_key, key); !s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return false;
  }
  for (const auto& text : o.entities) {
    auto e = parse_entity(text);
    if (!e) {
      std::fprintf(stderr,
                   "error: --entity %s: expected <person|vehicle|location>:<key> (persons by "
                   "their 64-hex pseudonym)\n",
                   text.c_str());
      return false;
    }
    entities.push_back(std::move(*e));
  }
  for (const auto& text : o.erasures) {
    auto e = parse_entity(text);
    if (!e) {
      std::fprintf(stderr, "error: --erase: expected <person|vehicle|location>:<key> (persons by "
                           "their 64-hex pseudonym)\n");
      return false;
    }
    erasures.push_back(std::move(*e));
  }
  return true;
}

// Applies the erasure requests after the input, as the service applies
// them: state deleted, alert withdrawals to the alert outputs. Each is
// timed at the replay's watermark, so the same input and requests write
// the same withdrawal records.
Status apply_erasures(const std::vector<std::pair<SubjectType, std::string>>& erasures,
                      LocalPipeline& pipeline) {
  if (erasures.empty()) return Status::ok();
  const Watermark w = pipeline.convergence().watermark();
  const ProcTime at{Millis{w.known() ? to_ms(w.time) : 0}};
  for (const auto& [type, entity_key] : erasures) {
    pipeline.erase(ErasureRecord{type, entity_key, at});
  }
  return pipeline.finish();
}

// --partitions P > 1: the partitions on --threads threads, in epochs, so the
// output is the same on any number of threads (partitioned_pipeline.h).
int replay_partitioned(const ReplayOptions& o, const Settings& settings,
                       const Pseudonymiser& pseudonymiser, ReplayIo& io,
                       const std::vector<std::pair<SubjectType, std::string>>& entities,
                       const std::vector<std::pair<SubjectType, std::string>>& erasures) {
  ManualClock clock(SystemClock().now());
  const int threads = o.threads > 0
                          ? o.threads
                          : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  PartitionedPipeline pipeline(settings.operators, pseudonymiser, clock, *io.stores,
                               io.alerts.get(), io.dlq.get(),
                               PartitionedOptions{.partitions = o.partitions,
                                                  .threads = threads,
                                                  .epoch_records = o.epoch_records},
                               settings.topics.dlq, settings.topics.alerts);
  pipeline.set_care_alerts(io.care_alerts.get(), settings.topics.alerts_care);
  std::optional<DlqKey> dlq_key;
  if (Status s = load_dlq_key(settings, dlq_key); !s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 2;
  }
  pipeline.seal_dead_letters(std::move(dlq_key), settings.dlq_max_sealed_bytes);
  const auto started = std::chrono::steady_clock::now();
  SystemClock wall;
  TaskLoop loop(TaskLoopOptions{.name = "replay",
                                .batch_records = 4096,
                                .poll_timeout = Millis{0},
                                .commit_interval = Millis::max()},
                *io.source, pipeline, wall);
  loop.every(seconds(2), "progress", [&](std::size_t) {
    std::fprintf(stderr, "replay: %.0f%% (%llu records)\n",
                 100.0 * static_cast<double>(io.source->consumed_bytes()) /
                     static_cast<double>(std::max<std::size_t>(1, io.source->total_bytes())),
                 static_cast<unsigned long long>(pipeline.intake().counters().total_in()));
    return Status::ok();
  });
  const std::atomic<bool> never{false};
  if (Status s = loop.run(never); !s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 1;
  }
  if (!erasures.empty()) {
    const Watermark w = pipeline.watermark();
    const ProcTime at{Millis{w.known() ? to_ms(w.time) : 0}};
    for (const auto& [type, entity_key] : erasures) {
      pipeline.erase(ErasureRecord{type, entity_key, at});
    }
    if (Status s = pipeline.finish(); !s) {
      std::fprintf(stderr, "error: applying --erase: %s\n", s.message().c_str());
      return 1;
    }
  }
  print_summary(pipeline.intake().counters(), pipeline.convergence_counters().duplicates,
                pipeline.alerts_raised(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  std::fprintf(stderr, "replay: %d partitions on %d threads, %llu epochs of %zu records\n",
               pipeline.partitions(), std::min(threads, pipeline.partitions()),
               static_cast<unsigned long long>(pipeline.epochs()), o.epoch_records);
  Status written = write_entity_views(
      entities,
      [&pipeline](SubjectType type, std::string_view entity_key, std::string& json) {
        return pipeline.entity_view(type, entity_key, json);
      },
      o.entity_out);
  if (!written) {
    std::fprintf(stderr, "error: %s\n", written.message().c_str());
    return 1;
  }
  return 0;
}

int replay(const ReplayOptions& o) {
  if (o.partitions > 1 && !o.metrics_out.empty()) {
    std::fprintf(stderr, "error: --metrics-out needs --partitions 1 (the oversight gauges are "
                         "published per stage)\n");
    return 2;
  }
  Settings settings;
  std::string key;
  std::vector<std::pair<SubjectType, std::string>> entities, erasures;
  if (!load_replay_inputs(o, settings, key, entities, erasures)) return 2;
  Pseudonymiser pseudonymiser(key);
  settings.operators.pseudonym_key_version = pseudonymiser.key_version();
  ReplayIo io;
  if (Status s = open_io(o, pseudonymiser.key_version(), io); !s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 2;
  }
  if (o.partitions > 1) {
    return replay_partitioned(o, settings, pseudonymiser, io, entities, erasures);
  }
  // One fixed processing time for the whole replay keeps it deterministic:
  // no source turns idle halfway because the replay happened to be slow.
  ManualClock clock(SystemClock().now());
  prometheus::Registry registry;
  PipelineMetrics metrics(registry, pipeline_label_sets(settings));
  OversightMetrics oversight(registry, oversight_label_sets(settings));
  LocalPipeline pipeline(settings.operators, pseudonymiser, clock, *io.stores, io.alerts.get(),
                         io.dlq.get(), settings.topics.dlq, settings.topics.alerts);
  pipeline.set_care_alerts(io.care_alerts.get(), settings.topics.alerts_care);
  pipeline.convergence().set_oversight_metrics(&oversight);
  // Dead letters are sealed as the service seals them (no key: hash and size only).
  std::optional<DlqKey> dlq_key;
  if (Status s = load_dlq_key(settings, dlq_key); !s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 2;
  }
  pipeline.seal_dead_letters(std::move(dlq_key), settings.dlq_max_sealed_bytes);
  ReplayTask task(pipeline, metrics, oversight, settings.operators.sources.size());
  const auto started = std::chrono::steady_clock::now();
  if (Status s = run_replay_loop(*io.source, task); !s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 1;
  }
  if (Status s = apply_erasures(erasures, pipeline); !s) {
    std::fprintf(stderr, "error: applying --erase: %s\n", s.message().c_str());
    return 1;
  }
  metrics.set_state_entries("convergence", pipeline.convergence().state_entries());
  metrics.set_state_entries("links", pipeline.convergence().link_state_entries());
  publish_watermarks(pipeline.intake().watermarks(), clock.now(), metrics);
  Status written = write_metrics(o.metrics_out, registry);
  if (written) {
    print_summary(
        task.totals, task.conv_totals.duplicates, pipeline.alerts_raised(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    written = write_entity_views(
        entities,
        [&pipeline](SubjectType type, std::string_view entity_key, std::string& json) {
          return pipeline.convergence().entity_view(type, entity_key, json);
        },
        o.entity_out);
  }
  if (!written) {
    std::fprintf(stderr, "error: %s\n", written.message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void add_replay_command(CLI::App& app, Runner& run) {
  auto opts = std::make_shared<ReplayOptions>();
  opts->config = default_config_path();
  auto* cmd = app.add_subcommand(
      "replay",
      "Run the operators over NDJSON files of signals and chain events (no broker; told apart\n"
      "by their `schema`) and write alerts as NDJSON. Files are read in the order given; the\n"
      "same input yields the same alert ids.");
  cmd->add_option("--config", opts->config, "Config file")->capture_default_str();
  cmd->add_option("--input,-i", opts->inputs,
                  "Signal / chain event NDJSON file (repeatable, in order)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--output,-o", opts->output, "Alerts NDJSON output file")->required();
  cmd->add_option("--care-output", opts->care_output,
                  "Care-purpose alerts NDJSON output file (never in --output)");
  cmd->add_option("--dlq", opts->dlq, "Rejected records NDJSON output file");
  cmd->add_option("--metrics-out", opts->metrics_out, "Write the final Prometheus exposition here");
  cmd->add_option("--state-dir", opts->state_dir,
                  "Keep operator state in RocksDB here (default: in memory)");
  cmd->add_option("--entity", opts->entities,
                  "After the replay, write this entity's view (score, contributions, links, "
                  "alerts) as JSON: <person|vehicle|location>:<key>, persons by pseudonym "
                  "(repeatable)");
  cmd->add_option("--erase", opts->erasures,
                  "After the input, erase this entity as POST /api/erasure would (its state "
                  "and, on --output, one alert withdrawal record timed at the replay's "
                  "watermark): <person|vehicle|location>:<key>, persons by pseudonym "
                  "(repeatable)");
  cmd->add_option("--entity-out", opts->entity_out,
                  "Write the entity views here, one JSON per line (default: stdout)");
  cmd->add_option("--partitions", opts->partitions,
                  "Run the convergence stage as this many partitions of the internal topic "
                  "(routed by the subject's key, as the service routes them), in epochs; the "
                  "output depends on the partitions and --epoch-records, never on --threads. "
                  "1: one partition, as before")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--threads", opts->threads,
                  "Threads running the partitions (0: the machine's cores; with --partitions > 1)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  cmd->add_option("--epoch-records", opts->epoch_records,
                  "Input records per epoch with --partitions > 1: a notice to another partition "
                  "is delivered at the start of the next epoch")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))
      ->capture_default_str();
  cmd->add_flag("--demo-key", opts->demo_key,
                "Use the well-known demo pseudonym key (synthetic data only)");
  cmd->callback([opts, &run] { run = [opts] { return replay(*opts); }; });
}

}  // namespace mozaiek::cli
