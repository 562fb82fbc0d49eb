// `mozaiek generate`: writes synthetic partner traffic as NDJSON, for replay,
// tests and benchmarks.
#include "connectors/app/cli/commands.h"
#include "connectors/app/settings.h"
#include "connectors/files/ndjson_file.h"
#include "connectors/synthetic/synthetic_chain.h"
#include "connectors/synthetic/synthetic_traffic.h"

namespace mozaiek::cli {
namespace {

struct GenerateOptions {
  std::string config;
  std::string output;
  std::size_t signals = 20000;
  std::uint64_t seed = 42;
  bool no_cases = false;
  double malformed_share = 0.002;
  bool chain_events = false;
};

int generate(const GenerateOptions& o) {
  Settings settings;
  std::vector<std::string> errors;
  if (!load_settings(o.config, settings, errors)) {
    for (const auto& e : errors) std::fprintf(stderr, "config error: %s\n", e.c_str());
    return 2;
  }
  TrafficOptions traffic;
  traffic.seed = o.seed;
  traffic.signals = o.signals;
  traffic.plant_cases = !o.no_cases;
  traffic.malformed_share = o.malformed_share;
  for (const auto& src : settings.operators.sources) traffic.sources.push_back(src.name);
  traffic.locations = settings.operators.locations;
  for (const auto& ind : settings.operators.catalogue.all()) traffic.indicators.push_back(ind.code);
  Status status = Status::ok();
  auto sink = NdjsonSink::open(o.output, status);
  if (!sink) {
    std::fprintf(stderr, "error: %s\n", status.message().c_str());
    return 2;
  }
  ChainTrafficOptions chain;
  chain.seed = o.seed;
  chain.topic = settings.topics.chain_events;
  chain.sources = traffic.sources;
  chain.locations = traffic.locations;
  PartnerTraffic gen(traffic, settings.operators.catalogue, chain, o.chain_events);
  OutRecord rec;
  std::size_t n = 0;
  while (gen.next(rec)) {
    if (Status s = sink->produce(rec.topic, rec.key, rec.value); !s) {
      std::fprintf(stderr, "error: %s\n", s.message().c_str());
      return 1;
    }
    ++n;
  }
  if (Status s = sink->flush(seconds(10)); !s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("generate: %zu records written to %s (seed %llu, %zu planted cases, %zu chain "
              "events)\n",
              n, o.output.c_str(), static_cast<unsigned long long>(o.seed),
              gen.signals().planted().size(), gen.chain_events());
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<GenerateOptions>();
  o->config = default_config_path();
  auto* cmd = app.add_subcommand("generate",
                                 "Write synthetic partner signals, optionally with chain events "
                                 "(NDJSON, reporting order)\nfor replay/tests.");
  cmd->add_option("--config", o->config, "Config file")->capture_default_str();
  cmd->add_option("--output,-o", o->output, "Output NDJSON file")->required();
  cmd->add_option("--signals,-n", o->signals, "Approximate number of signals")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--malformed-share", o->malformed_share, "Share of broken records")
      ->capture_default_str();
  cmd->add_flag("--no-cases", o->no_cases, "Leave out the planted cases (noise only)");
  cmd->add_flag("--chain-events", o->chain_events,
                "Mix in chain events (meldingen, MOB, registrations) by reporting time");
  cmd->callback([o, &run] { run = [o] { return generate(*o); }; });
}

}  // namespace mozaiek::cli
