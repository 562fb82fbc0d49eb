// `mozaiek backtest`: two rule sets over the same history, the alerts only
// one raises or both raise differently, and the detection quality when the
// history carries outcomes or a labels file names cases.
#include <cstdio>
#include <fstream>

#include "connectors/app/cli/commands.h"
#include "connectors/app/settings.h"
#include "connectors/backtest/backtest_labels.h"
#include "connectors/backtest/backtest_report.h"
#include "connectors/backtest/backtest_run.h"

namespace mozaiek::cli {
namespace {

struct BacktestOptions {
  std::string baseline;
  std::string candidate;
  std::vector<std::string> inputs;
  std::string labels;
  std::string out_ndjson;
  std::string out_html;
  std::size_t max_listed = 300;
  bool demo_key = false;
};

bool load_side(const std::string& path, const char* option, Settings& out) {
  std::vector<std::string> errors;
  if (load_settings(path, out, errors)) return true;
  for (const auto& e : errors)
    std::fprintf(stderr, "%s %s: config error: %s\n", option, path.c_str(), e.c_str());
  return false;
}

Status write_file(const std::string& path, const std::string& text) {
  if (path.empty()) return Status::ok();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return out ? Status::ok() : Status::error("cannot write " + path);
}

int backtest(const BacktestOptions& o) {
  Settings baseline_settings, candidate_settings;
  if (!load_side(o.baseline, "--baseline", baseline_settings) ||
      !load_side(o.candidate, "--candidate", candidate_settings)) {
    return 2;
  }
  // Both sides key persons alike (the baseline's key), so their alerts match.
  std::string key;
  if (Status s = load_pseudonym_key(baseline_settings, o.demo_key, key); !s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 2;
  }
  const Pseudonymiser pseudonymiser(key);
  baseline_settings.operators.pseudonym_key_version = pseudonymiser.key_version();
  candidate_settings.operators.pseudonym_key_version = pseudonymiser.key_version();
  KnownCases cases;
  if (!o.labels.empty()) {
    if (Status s = load_labels(o.labels, pseudonymiser, cases); !s) {
      std::fprintf(stderr, "error: --labels: %s\n", s.message().c_str());
      return 2;
    }
  }
  SideResult baseline, candidate;
  baseline.name = "baseline";
  baseline.config_path = o.baseline;
  candidate.name = "candidate";
  candidate.config_path = o.candidate;
  for (auto [side, settings] :
       {std::pair{&baseline, &baseline_settings}, std::pair{&candidate, &candidate_settings}}) {
    const std::string name = side->name;
    auto progress = [&name](double fraction, std::uint64_t records) {
      std::fprintf(stderr, "backtest: %s %.0f%% (%llu records)\n", name.c_str(), 100.0 * fraction,
                   static_cast<unsigned long long>(records));
    };
    if (Status s = run_side(*settings, pseudonymiser, o.inputs, *side, progress); !s) {
      std::fprintf(stderr, "error: %s: %s\n", name.c_str(), s.message().c_str());
      return 1;
    }
  }
  add_registered_cases(baseline, cases);
  const BacktestReport report = compare_sides(baseline, candidate, std::move(cases));
  for (auto [path, text] : {std::pair{&o.out_ndjson, backtest_ndjson(report)},
                            std::pair{&o.out_html, backtest_html(report, o.max_listed)}}) {
    if (Status s = write_file(*path, text); !s) {
      std::fprintf(stderr, "error: %s\n", s.message().c_str());
      return 1;
    }
  }
  std::printf("%s\n", backtest_summary(report).c_str());
  return 0;
}

}  // namespace

void add_backtest_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<BacktestOptions>();
  auto* cmd = app.add_subcommand(
      "backtest",
      "Run two rule sets (configs) over the same history of signals and chain events and\n"
      "report the alerts per rule, the episodes only one raised or both raised differently,\n"
      "and, with outcomes in the history or --labels, detection quality and the\n"
      "precision-recall curve over the person threshold.");
  cmd->add_option("--baseline", o->baseline, "The rules in force (config file)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--candidate", o->candidate, "The rules to try (config file)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--input,-i", o->inputs,
                  "History: signal / chain event NDJSON file (repeatable, in order)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--labels", o->labels,
                  "Persons known to be cases, one JSON per line (README \"Backtest\")")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out-ndjson", o->out_ndjson, "Write the report's records here (NDJSON)");
  cmd->add_option("--out-html", o->out_html, "Write the HTML report here");
  cmd->add_option("--max-listed", o->max_listed,
                  "Episodes of each kind listed in the HTML report (the NDJSON has all)")
      ->capture_default_str();
  cmd->add_flag("--demo-key", o->demo_key,
                "Use the well-known demo pseudonym key (synthetic data only)");
  cmd->callback([o, &run] { run = [o] { return backtest(*o); }; });
}

}  // namespace mozaiek::cli
