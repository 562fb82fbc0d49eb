// `mozaiek rekey`: moves person-keyed state to the newest pseudonym key
// version of the key list (privacy.pseudonym_key_file or
// $MOZAIEK_PSEUDONYM_KEY), with connectors/app/pseudonym_state.h. The
// service's state directory (its changelog too, on a real cluster), or a
// `replay --state-dir` directory with --state-dir.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "connectors/app/cli/commands.h"
#include "connectors/app/pseudonym_state.h"
#include "connectors/app/settings.h"

namespace mozaiek::cli {
namespace {

struct RekeyOptionsCli {
  std::string config;
  std::string state_dir;
  std::string brokers;
  bool demo_key = false;
};

int rekey(const RekeyOptionsCli& o) {
  Settings settings;
  std::vector<std::string> errors;
  if (!load_settings(o.config, settings, errors)) {
    for (const auto& e : errors) std::fprintf(stderr, "config error: %s\n", e.c_str());
    return 2;
  }
  if (!o.brokers.empty()) settings.brokers = o.brokers;
  std::string secret;
  if (Status s = load_pseudonym_key(settings, o.demo_key, secret); !s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 2;
  }
  const Pseudonymiser pseudonymiser(secret);
  std::fill(secret.begin(), secret.end(), '\0');

  const bool replay_dir = !o.state_dir.empty();
  const std::string dir = replay_dir ? o.state_dir : settings.state_dir;
  RekeyOptions options;
  options.progress = [](const std::string& line) {
    std::fprintf(stderr, "rekey: %s\n", line.c_str());
  };
  RekeyReport report;
  bool changelog_written = false;
  if (Status s = rekey_state_dir(settings, dir, replay_dir, pseudonymiser, options, report,
                                 changelog_written);
      !s) {
    std::fprintf(stderr,
                 "error: %s\nNothing is lost: run `mozaiek rekey` again with the same key list "
                 "to finish or redo it.\n",
                 s.message().c_str());
    return s.message().find("still running") != std::string::npos ? 2 : 1;
  }
  if (report.already_current) {
    std::printf("state %s is at pseudonym key version %d already: nothing to do\n", dir.c_str(),
                report.to);
    return 0;
  }
  std::printf("rekeyed state %s from pseudonym key version %d to %d%s: %zu entries written, %zu "
              "persons moved, %zu pseudonyms inside values, %zu changed partition, %zu "
              "undecodable kept as they were%s\n",
              dir.c_str(), report.from, report.to,
              report.resumed ? " (finished an interrupted run)" : "", report.entries,
              report.persons, report.named_inside, report.moved_partition, report.undecodable,
              changelog_written ? ", changelog written" : "");
  return 0;
}

}  // namespace

void add_rekey_command(CLI::App& app, Runner& run) {
  auto opts = std::make_shared<RekeyOptionsCli>();
  opts->config = default_config_path();
  auto* cmd = app.add_subcommand(
      "rekey",
      "Move person-keyed state (convergence scores, links, oversight entries and counts) to\n"
      "the newest pseudonym key version of the key list (privacy.pseudonym_key_file or\n"
      "$MOZAIEK_PSEUDONYM_KEY; add the new key as the next `<n>:<key>` line first). Applies\n"
      "HMAC(new key, old pseudonym) to every stored person pseudonym, no raw ids needed.\n"
      "Stop every instance first: the state directory must not be in use. On a real\n"
      "cluster the state changelog is read first and written with the new keys.\n"
      "Safe to re-run after an interruption. Steps: README, \"Pseudonym key rotation\".");
  cmd->add_option("--config", opts->config, "Config file")->capture_default_str();
  cmd->add_option("--state-dir", opts->state_dir,
                  "A `replay --state-dir` directory instead of the service's service.state_dir");
  cmd->add_option("--brokers", opts->brokers, "Override kafka.brokers");
  cmd->add_flag("--demo-key", opts->demo_key,
                "Use the well-known demo key when none is configured (demo state only)");
  cmd->callback([opts, &run] { run = [opts] { return rekey(*opts); }; });
}

}  // namespace mozaiek::cli
