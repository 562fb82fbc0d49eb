// Settings: the whole service configuration, read from one YAML file
// (`mozaiek run --config FILE`): the service and Kafka sections here, the
// operator sections (catalogue, sources, rules, privacy, limits, metrics)
// through operators/model/config_loader.h. Every option is declared once (see
// stream/config_schema.h); settings_reference_markdown() renders them all.
//
// Loaded once at startup on the main thread; afterwards read-only.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/http/auth/auth_settings.h"
#include "connectors/http/http_options.h"
#include "connectors/kafka/kafka_settings.h"
#include "operators/intake/dead_letter.h"
#include "operators/model/model.h"
#include "stream/status.h"

namespace mozaiek {

struct KafkaTopics {
  std::string signals_prefix = "signals.";
  // Per-partner chain topics: <chain_prefix><org>; an event's org must be <org>.
  std::string chain_prefix = "chain.";
  std::string chain_events = "chain.events";
  // The partner the shared chain_events topic belongs to; empty: any org
  // (only for a topic that a single trusted producer may write).
  std::string chain_events_org;
  std::string alerts = "mozaiek.alerts";
  std::string alerts_care = "mozaiek.alerts.care";  // care-purpose alerts only
  std::string alert_actions = "mozaiek.alert-actions";
  std::string dlq = "mozaiek.dlq";
  std::string audit = "mozaiek.audit";
  // Set by load_settings() to "<group_id>.internal.subjects" unless the
  // config names it; this default is that name for the default group.
  std::string subjects = "mozaiek.internal.subjects";
  // Empty: "<group_id>.internal.changelog", so two deployments with their
  // own group ids never share state (see Settings::changelog_topic()).
  std::string changelog;
};

// retention.ms of the topics mozaiek creates, per class of topic. The
// changelog is compacted instead (latest value per key, tombstones on expiry
// and erasure).
struct TopicRetention {
  Millis inputs = days(7);    // signals.<source>, chain.<org>, chain_events
  Millis alerts = days(90);   // alerts, alert_actions
  Millis audit = days(730);   // who looked at which entity
  Millis dlq = days(3);       // sealed dead letters: long enough to repair, no longer
  Millis internal = days(1);  // the subjects repartition topic
};

// A principal granted to every request by the loopback-only demo gate
// (service.demo_identity); empty name: none configured.
struct DemoIdentity {
  std::string name;
  std::vector<std::string> roles;
};

struct Settings {
  OperatorConfig operators;
  KafkaTopics topics;
  std::string brokers = "embedded";
  std::string group_id = "mozaiek";
  int partitions = 4;
  int replication_factor = 1;
  // The stages flush their outputs and state and commit their offsets at
  // most this often (and when their input goes quiet, on rebalance and on
  // shutdown), so the flushes' waits for acknowledgements are shared by many
  // batches. Longer means more records reprocessed after a crash.
  int commit_interval_ms = 1000;
  // Intake's event-time alignment across partner partitions: the longest a
  // partition with nothing fetched holds the others back; 0 = off.
  int alignment_wait_ms = 10000;
  // librdkafka properties, in file order; values may be secrets: never log them.
  std::vector<std::pair<std::string, std::string>> kafka_properties;
  std::string http_listen = "127.0.0.1:8080";
  auth::AuthSettings auth;  // service.auth: who may call the HTTP API
  // HTTPS (paths resolved against the config file's folder), the edge's
  // limits and the Host names it answers to besides its own.
  HttpTlsOptions tls;
  HttpLimits http_limits;
  std::vector<std::string> allowed_hosts;
  // Plain HTTP on a non-loopback address; `mozaiek run` refuses that without it.
  bool allow_plain_http = false;
  DemoIdentity demo_identity;
  std::string state_dir = "./mozaiek-state";
  // mozaiek backtest HTML reports; the console links the newest (empty: none).
  std::string backtest_reports_dir;
  // Convergence task threads, sharing the convergence group's partitions
  // (intake is one loop). 0: the machine's cores.
  int threads = 0;
  std::string pseudonym_key_file;  // as written; relative to the config file
  std::string dlq_key_file;        // as written; relative to the config file
  std::size_t dlq_max_sealed_bytes = 64 * 1024;
  // State expires at max(watermark, wall clock - this): a quiet feed no
  // longer keeps state forever.
  Millis state_wall_clock_grace = days(2);
  TopicRetention retention;
  std::string log_level = "info";
  std::vector<std::string> debug;  // subsystems to trace
  std::string config_path;         // the file these settings came from

  std::string changelog_topic() const {
    return topics.changelog.empty() ? group_id + ".internal.changelog" : topics.changelog;
  }

  // The client settings of the `kafka:` section (brokers as configured,
  // "embedded" included: the caller resolves that).
  KafkaSettings kafka_settings() const {
    KafkaSettings k;
    k.brokers = brokers;
    k.partitions = partitions;
    k.replication_factor = replication_factor;
    k.properties = kafka_properties;
    return k;
  }
};

// Reads `path` into `out`. A missing file, a YAML syntax error (with line
// and column) and every bad key (with its YAML path) are appended to
// `errors`; returns false, leaving `out` untouched, if there was any.
// `${NAME}` in kafka.properties values is replaced by environment variable
// NAME, so secrets stay out of the config file.
bool load_settings(const std::string& path, Settings& out, std::vector<std::string>& errors);
// The same for the text of a config file at `path` (relative file names in
// it are resolved against path's directory; the file itself is not read):
// POST /api/rules, SIGHUP and the config fuzzer, with check-config's errors.
bool load_settings_text(const std::string& text, const std::string& path, Settings& out,
                        std::vector<std::string>& errors);

// The environment variable that holds the pseudonymisation key.
inline constexpr const char* kPseudonymKeyEnv = "MOZAIEK_PSEUDONYM_KEY";
// The well-known key the demo uses when no key is configured. Never for real data.
inline constexpr const char* kDemoPseudonymKey = "mozaiek-demo-key-NOT-FOR-REAL-DATA";
inline constexpr std::size_t kMinPseudonymKeyBytes = 16;

// Finds the HMAC key for person pseudonyms: $MOZAIEK_PSEUDONYM_KEY wins,
// then privacy.pseudonym_key_file (relative to the config file; trailing
// newline stripped), then, only when `demo`, kDemoPseudonymKey with a
// warning. Otherwise an error saying how to provide one. The key is at
// least 16 bytes and never logged.
[[nodiscard]] Status load_pseudonym_key(const Settings& settings, bool demo, std::string& key);

// The environment variable that holds the DLQ key (64 hex digits).
inline constexpr const char* kDlqKeyEnv = "MOZAIEK_DLQ_KEY";

// Finds the key that seals dead letters: $MOZAIEK_DLQ_KEY wins, then
// privacy.dlq_key_file (relative to the config file). Neither: `key` stays
// empty and dead letters carry hash and size only. A key that is there but
// unreadable or malformed is an error naming where it came from.
[[nodiscard]] Status load_dlq_key(const Settings& settings, std::optional<DlqKey>& key);
// Whether `listen` (host:port) binds to loopback only: 127.0.0.0/8, ::1 or
// localhost.
bool is_loopback_listen(const std::string& listen);

// The Markdown config reference (`mozaiek config-reference`), generated from
// the option declarations.
std::string settings_reference_markdown();

}  // namespace mozaiek
