// `mozaiek generate`: writes synthetic partner traffic as NDJSON, for replay,
// tests and benchmarks.
#include "connectors/app/cli/commands.h"
#include "connectors/app/settings.h"
#include "connectors/files/ndjson_file.h"
#include "connectors/synthetic/synthetic_chain.h"
#include "connectors/synthetic/synthetic_population.h"
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
  bool labelled = false;
  std::string labels;
  std::size_t persons = 20000;
  std::size_t cases = 200;
};

// --labelled: a labelled population (background persons and planted cases
// with their outcomes) and its labels file.
int generate_population(const GenerateOptions& o, const Settings& settings, NdjsonSink& sink) {
  PopulationOptions p;
  p.seed = o.seed;
  p.persons = o.persons;
  p.cases = o.cases;
  p.chain_topic = settings.topics.chain_events;
  p.signals_prefix = settings.topics.signals_prefix;
  const SyntheticPopulation population(p, settings.operators);
  for (const auto& rec : population.records()) {
    if (Status s = sink.produce(rec.topic, rec.key, rec.value); !s) {
      std::fprintf(stderr, "error: %s\n", s.message().c_str());
      return 1;
    }
  }
  std::FILE* labels = std::fopen(o.labels.c_str(), "wb");
  if (labels == nullptr) {
    std::fprintf(stderr, "error: cannot write %s\n", o.labels.c_str());
    return 1;
  }
  bool ok = true;
  for (const auto& l : population.labels()) {
    const std::string line = SyntheticPopulation::label_json(l) + "\n";
    ok = ok && std::fwrite(line.data(), 1, line.size(), labels) == line.size();
  }
  ok = std::fclose(labels) == 0 && ok;
  if (Status s = sink.flush(seconds(10)); !s || !ok) {
    std::fprintf(stderr, "error: %s\n", !s ? s.message().c_str() : "cannot write the labels");
    return 1;
  }
  std::printf("generate: %zu records written to %s, %zu labelled cases to %s (seed %llu, %zu "
              "background persons)\n",
              population.records().size(), o.output.c_str(), population.labels().size(),
              o.labels.c_str(), static_cast<unsigned long long>(o.seed), o.persons);
  return 0;
}

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
  if (o.labelled) return generate_population(o, settings, *sink);
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
  auto* labelled = cmd->add_flag(
      "--labelled", o->labelled,
      "Write a labelled population instead: background persons with coincidental signals and\n"
      "planted cases (fast, slow, single-organisation, vehicle-linked) with their outcomes\n"
      "(victim.registered, person.departed_unknown), for `mozaiek backtest --labels`");
  cmd->add_option("--labels", o->labels, "With --labelled: the labels file to write (NDJSON)")
      ->needs(labelled);
  labelled->needs(cmd->get_option("--labels"));
  cmd->add_option("--persons", o->persons, "With --labelled: background persons")
      ->capture_default_str();
  cmd->add_option("--cases", o->cases, "With --labelled: planted cases")->capture_default_str();
  cmd->callback([o, &run] { run = [o] { return generate(*o); }; });
}

}  // namespace mozaiek::cli
