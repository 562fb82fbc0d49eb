// mozaiek: real-time convergence of soft signals of human trafficking.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "connectors/app/cli/commands.h"

namespace {

int run_main(int argc, char** argv) {
  // Logs go to stderr, so stdout carries only what a command is asked to
  // print (alerts with --print-alerts, reports). Set before any logger is
  // cloned from the default (the kafka logger is).
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
  CLI::App app{"mozaiek - streams partner signals from Kafka, scores convergence per person,\n"
               "vehicle and location, and raises explainable alerts."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mozaiek 0.1.0");
  mozaiek::cli::Runner run;
  mozaiek::cli::add_run_command(app, run);
  mozaiek::cli::add_demo_command(app, run);
  mozaiek::cli::add_replay_command(app, run);
  mozaiek::cli::add_check_config_command(app, run);
  mozaiek::cli::add_config_reference_command(app, run);
  mozaiek::cli::add_generate_command(app, run);
  mozaiek::cli::add_bench_command(app, run);
  mozaiek::cli::add_erase_command(app, run);
  mozaiek::cli::add_dlq_command(app, run);
  mozaiek::cli::add_rekey_command(app, run);
  mozaiek::cli::add_audit_command(app, run);
  mozaiek::cli::add_backtest_command(app, run);
  // CLI11 reports an unknown first word as a missing subcommand; name it.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string names;
    for (const auto* sub : app.get_subcommands({})) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "mozaiek: unknown command '%s' (commands: %s; see --help)\n", argv[1],
                   names.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run ? run() : 2;
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
}

}  // namespace

// Nothing may escape main: an exception thrown while setting up the logger or
// the command line (or while logging one) is reported here, on stderr.
int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mozaiek: fatal: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "mozaiek: fatal: unknown exception\n");
  }
  return 1;
}
