// The `mozaiek` subcommands. Each registers its options on the CLI11 app and
// returns the process exit code when run.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace mozaiek::cli {

using Runner = std::function<int()>;

// Each adds a subcommand to app and stores in `run` what to execute if chosen.
void add_run_command(CLI::App& app, Runner& run);
void add_demo_command(CLI::App& app, Runner& run);
void add_replay_command(CLI::App& app, Runner& run);
void add_check_config_command(CLI::App& app, Runner& run);
void add_config_reference_command(CLI::App& app, Runner& run);
void add_generate_command(CLI::App& app, Runner& run);
void add_bench_command(CLI::App& app, Runner& run);
void add_erase_command(CLI::App& app, Runner& run);
void add_dlq_command(CLI::App& app, Runner& run);
void add_rekey_command(CLI::App& app, Runner& run);
void add_audit_command(CLI::App& app, Runner& run);
void add_backtest_command(CLI::App& app, Runner& run);

// Default config path: config/mozaiek.yaml in the source tree or next to the binary.
std::string default_config_path();

}  // namespace mozaiek::cli
