// `mozaiek erase`: an erasure request from the command line, for operators
// without HTTP access. The same request as POST /api/erasure (parsed and
// normalised by the same code, operators/erasure/erasure_request.h) written
// to the cluster of the config; or, with --state-dir, applied directly to
// the state directory of `mozaiek replay --state-dir`.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "connectors/app/cli/commands.h"
#include "connectors/app/local_pipeline.h"
#include "connectors/app/pseudonym_state.h"
#include "connectors/app/settings.h"
#include "connectors/http/api/erasure_api.h"
#include "connectors/kafka/kafka_sink.h"
#include "operators/records/erasure_record.h"
#include "stream/rocksdb_state.h"

namespace mozaiek::cli {
namespace {

struct EraseOptions {
  std::string config;
  std::string type, id, id_scheme, key, plate, country, reason, user;
  std::string brokers;
  std::string state_dir;
  bool demo_key = false;
};

// The option that carries a request field, for error messages.
std::string option_of(const std::string& field) {
  if (field == "id_scheme") return "--id-scheme";
  return "--" + field;
}

int erase_in_state_dir(const Settings& settings, const Pseudonymiser& pseudonymiser,
                       const ErasureRequest& request, const std::string& dir) {
  Status status = Status::ok();
  auto db = RocksStateDb::open(dir, status);
  if (!db) {
    std::fprintf(stderr, "error: --state-dir %s: %s\n", dir.c_str(), status.message().c_str());
    return 2;
  }
  auto stores = db->factory();
  if (Status s = check_state_key_version(*stores, 1, pseudonymiser.key_version(), dir); !s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 2;
  }
  SystemClock clock;
  LocalPipeline pipeline(settings.operators, pseudonymiser, clock, *stores, nullptr, nullptr);
  const ProcTime now = clock.now();
  const auto outcome = pipeline.erase(ErasureRecord{request.type, request.key, now});
  if (Status s = pipeline.finish(); !s) {
    std::fprintf(stderr, "error: writing the state: %s\n", s.message().c_str());
    return 1;
  }
  // Offline state has no audit topic: the audit record goes to stdout, to keep.
  std::string audit;
  write_erasure_audit_json(request, cli_erasure_requester(request), now, audit);
  std::printf("%s\n", audit.c_str());
  std::fprintf(stderr, "erased a %s from %s (%zu links, %zu other ends told)\n",
               std::string(to_string(request.type)).c_str(), dir.c_str(), outcome.links,
               outcome.notices);
  return 0;
}

int erase(const EraseOptions& o) {
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
  Pseudonymiser pseudonymiser(secret);

  // "--id -": the raw id from the first line of stdin, so it stays out of
  // the process list and the shell history.
  std::string id = o.id;
  if (id == "-") {
    std::getline(std::cin, id);
    if (!id.empty() && id.back() == '\r') id.pop_back();
  }
  auto given = [](const std::string& v) -> std::optional<std::string_view> {
    if (v.empty()) return std::nullopt;
    return std::string_view(v);
  };
  const char* login = std::getenv("USER");
  const std::string user = !o.user.empty() ? o.user : (login != nullptr ? login : "");
  ErasureFields fields{given(o.type),  given(id),        given(o.id_scheme), given(o.key),
                       given(o.plate), given(o.country), given(o.reason),    given(user)};
  ErasureRequest request;
  auto problem = make_erasure_request(fields, pseudonymiser, request);
  std::fill(id.begin(), id.end(), '\0');
  if (auto bad = problem) {
    std::fprintf(stderr, "error: %s %s%s\n", option_of(bad->field).c_str(), bad->message.c_str(),
                 bad->field == "user" ? " (no --user and no USER in the environment)" : "");
    return 2;
  }
  if (!o.state_dir.empty())
    return erase_in_state_dir(settings, pseudonymiser, request, o.state_dir);

  if (settings.brokers == "embedded") {
    std::fprintf(stderr, "error: kafka.brokers is 'embedded': that cluster lives inside a running "
                         "`mozaiek run`; use its POST /api/erasure, or --brokers HOST:PORT\n");
    return 2;
  }
  Status status = Status::ok();
  auto sink = KafkaSink::create(settings.kafka_settings(), status);
  if (!sink) {
    std::fprintf(stderr, "error: Kafka producer: %s\n", status.message().c_str());
    return 1;
  }
  SystemClock clock;
  if (Status s = write_erasure_request(
          *sink, ErasureTopics{settings.topics.subjects, settings.topics.audit}, request,
          cli_erasure_requester(request), clock.now(), seconds(30));
      !s) {
    std::fprintf(stderr, "error: the erasure request was not written (nothing erased): %s\n",
                 s.message().c_str());
    return 1;
  }
  // A person's pseudonym is not printed: for a raw --id that would turn
  // this command into a lookup of pseudonyms.
  const std::string named = request.type == SubjectType::person
                                ? std::string("a person")
                                : std::string(to_string(request.type)) + ":" + request.key;
  std::printf("erasure request written for %s (audited on %s as %s)\n", named.c_str(),
              settings.topics.audit.c_str(), request.user.c_str());
  return 0;
}

}  // namespace

void add_erase_command(CLI::App& app, Runner& run) {
  auto opts = std::make_shared<EraseOptions>();
  opts->config = default_config_path();
  auto* cmd = app.add_subcommand(
      "erase",
      "Erase an entity's state (convergence, links, oversight): writes an erasure request to\n"
      "the cluster of the config, audited on the audit topic, for the partition owning the\n"
      "entity to apply; or applies it to a replay state directory (--state-dir).\n"
      "A person by raw --id and --id-scheme (pseudonymised as intake does) or by --key\n"
      "(pseudonym); a vehicle by --plate [--country]; a location by --id.");
  cmd->add_option("--config", opts->config, "Config file")->capture_default_str();
  cmd->add_option("--type", opts->type, "person, vehicle or location")->required();
  cmd->add_option("--id", opts->id,
                  "Person: raw identifier ('-' reads it from stdin, keeping it out of the "
                  "process list and shell history); location: location id");
  cmd->add_option("--id-scheme", opts->id_scheme, "Person: identifier scheme (bsn, v-number, ...)");
  cmd->add_option("--key", opts->key, "Person: pseudonym (64 hex digits) instead of --id");
  cmd->add_option("--plate", opts->plate, "Vehicle: number plate");
  cmd->add_option("--country", opts->country, "Vehicle: country of the plate");
  cmd->add_option("--reason", opts->reason, "Why (a request reference); audited")->required();
  cmd->add_option("--user", opts->user, "Who asks; audited (default: $USER)");
  cmd->add_option("--brokers", opts->brokers, "Override kafka.brokers");
  cmd->add_option("--state-dir", opts->state_dir,
                  "Apply to this `replay --state-dir` directory instead of the cluster");
  cmd->add_flag("--demo-key", opts->demo_key,
                "Use the well-known demo pseudonym key (synthetic data only)");
  cmd->callback([opts, &run] { run = [opts] { return erase(*opts); }; });
}

}  // namespace mozaiek::cli
