#include "connectors/app/settings.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "connectors/http/access.h"
#include "operators/intake/pseudonymiser.h"
#include "operators/model/config_loader.h"
#include "stream/config_schema.h"

namespace mozaiek {
namespace {

using config::add_error;
using config::join_path;
using config::Section;

namespace fs = std::filesystem;

std::string check_listen(const std::string& s) {
  const std::size_t colon = s.rfind(':');
  if (colon == std::string::npos) return "'" + s + "' must be host:port";
  const std::string port = s.substr(colon + 1);
  const bool digits = !port.empty() && port.size() <= 5 &&
                      port.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoi(port) > 65535) {
    return "'" + s + "' must end in a port from 0 to 65535";
  }
  return "";
}

std::string check_brokers(const std::string& s) {
  if (s == "embedded") return "";
  if (s.empty()) return "must be 'embedded' or a host:port list";
  std::stringstream list(s);
  std::string broker;
  while (std::getline(list, broker, ',')) {
    const std::size_t b = broker.find_first_not_of(' ');
    const std::size_t e = broker.find_last_not_of(' ');
    broker = b == std::string::npos ? "" : broker.substr(b, e - b + 1);
    if (std::string msg = check_listen(broker); !msg.empty() || broker.rfind(':') == 0) {
      return "'" + broker + "' is not host:port (give 'embedded' or host:port,host:port,...)";
    }
  }
  return "";
}

// Kafka topic and group names: [a-zA-Z0-9._-], at most 249 characters.
std::string check_kafka_name(const std::string& s);

// The changelog topic may be left empty (derived from the group id).
std::string check_changelog_name(const std::string& s) {
  return s.empty() ? std::string() : check_kafka_name(s);
}

std::string check_kafka_name(const std::string& s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > 249) return "must be at most 249 characters";
  if (s == "." || s == "..") return "'" + s + "' is not a valid Kafka name";
  for (char c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    if (!ok) return "'" + s + "' may use only a-z, A-Z, 0-9, '.', '_' and '-'";
  }
  return "";
}

constexpr const char* kKafkaName = "a-z A-Z 0-9 . _ -, at most 249";

// librdkafka properties mozaiek sets itself; a value here would be
// overridden silently or would break the commit protocol.
std::string managed_property(const std::string& key) {
  if (key == "bootstrap.servers" || key == "metadata.broker.list") {
    return "set kafka.brokers instead";
  }
  if (key == "group.id") return "set kafka.group_id instead";
  if (key == "client.id") return "set by mozaiek per client";
  if (key == "enable.auto.commit" || key == "enable.auto.offset.store") {
    return "managed by mozaiek: offsets are committed only after outputs are flushed";
  }
  return "";
}

// Replaces ${NAME} with the environment variable NAME.
bool expand_env(const std::string& in, std::string& out, std::string& missing) {
  out.clear();
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = in.find("${", pos);
    if (open == std::string::npos) break;
    const std::size_t close = in.find('}', open + 2);
    if (close == std::string::npos) break;
    out.append(in, pos, open - pos);
    const std::string name = in.substr(open + 2, close - open - 2);
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      missing = name;
      return false;
    }
    out += value;
    pos = close + 1;
  }
  out.append(in, pos, std::string::npos);
  return true;
}

void parse_properties(const YAML::Node& v, const std::string& path, Settings& out,
                      std::vector<std::string>& errors) {
  if (v.IsNull()) return;
  if (!v.IsMap()) {
    add_error(errors, path, "must be a map of librdkafka property names to values", v);
    return;
  }
  std::set<std::string> seen;
  for (const auto& kv : v) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    const std::string key_path = join_path(path, key);
    if (key.empty()) {
      add_error(errors, path, "property names must be plain strings", kv.first);
      continue;
    }
    if (!seen.insert(key).second) {
      add_error(errors, key_path, "duplicate key", kv.first);
      continue;
    }
    if (std::string why = managed_property(key); !why.empty()) {
      add_error(errors, key_path, why, kv.first);
      continue;
    }
    if (!kv.second.IsScalar()) {
      add_error(errors, key_path, "must be a single value", kv.second);
      continue;
    }
    std::string value, missing;
    if (!expand_env(kv.second.Scalar(), value, missing)) {
      add_error(errors, key_path, "environment variable " + missing + " is not set", kv.second);
      continue;
    }
    out.kafka_properties.emplace_back(key, std::move(value));
  }
}

Section<KafkaTopics> topics_section() {
  Section<KafkaTopics> s("kafka.topics",
                         "Topic names: the contract with partner systems (PRODUCT.md, Topics).");
  s.text("signals_prefix", &KafkaTopics::signals_prefix,
         "Partner signal topics are <prefix><source name>; intake subscribes to all topics "
         "with this prefix.",
         check_kafka_name, kKafkaName);
  s.text("chain_prefix", &KafkaTopics::chain_prefix,
         "Per-partner chain event topics are <prefix><org>; intake subscribes to all topics "
         "with this prefix and dead-letters an event whose org is not <org> (org_mismatch).",
         check_kafka_name, kKafkaName);
  s.text("chain_events", &KafkaTopics::chain_events,
         "The shared chain event topic (meldingen, MOB); see chain_events_org.", check_kafka_name,
         kKafkaName);
  s.text("chain_events_org", &KafkaTopics::chain_events_org,
         "The partner (a source name) the shared chain_events topic belongs to: events on it "
         "with another org are dead-lettered (org_mismatch). Empty: any org is accepted there, "
         "so only the one trusted producer may hold a write ACL on it (README, Kafka ACLs).");
  s.text("alerts", &KafkaTopics::alerts, "Alerts raised by mozaiek (keyed by alert id).",
         check_kafka_name, kKafkaName);
  s.text("alerts_care", &KafkaTopics::alerts_care,
         "Alerts on the convergence of care-purpose signals (sources with purpose `care`), "
         "keyed by alert id; never on `alerts`. Grant it to the care role only.",
         check_kafka_name, kKafkaName);
  s.text("alert_actions", &KafkaTopics::alert_actions,
         "Acknowledge / dismiss / escalate actions from console users (keyed by alert id; "
         "action record v1); every instance reads it from the start for alert statuses.",
         check_kafka_name, kKafkaName);
  s.text("dlq", &KafkaTopics::dlq,
         "Dead-letter topic: rejected records with reason and source topic/partition/offset.",
         check_kafka_name, kKafkaName);
  s.text("audit", &KafkaTopics::audit, "Who looked at which entity, when and why.",
         check_kafka_name, kKafkaName);
  s.text("subjects", &KafkaTopics::subjects,
         "Internal repartition topic: one record per signal subject, keyed by subject.",
         check_kafka_name, kKafkaName);
  s.text("changelog", &KafkaTopics::changelog,
         "Internal compacted changelog of operator state, partitioned like `subjects`: a "
         "partition's state is rebuilt from it wherever the partition is assigned. Empty: "
         "<group_id>.internal.changelog.",
         check_changelog_name, kKafkaName);
  return s;
}

Section<TopicRetention> retention_section() {
  Section<TopicRetention> s("kafka.retention",
                            "retention.ms of the topics mozaiek creates (existing topics are left "
                            "as they are); the changelog is compacted instead.");
  const auto positive = config::greater_than(0);
  s.days("inputs_days", &TopicRetention::inputs, positive,
         "Partner topics: signals.<source>, chain.<org> and the shared chain topic.");
  s.days("alerts_days", &TopicRetention::alerts, positive, "Alerts and alert actions.");
  s.days("audit_days", &TopicRetention::audit, positive, "The audit topic (entity lookups).");
  s.days("dlq_days", &TopicRetention::dlq, positive,
         "The dead-letter topic: long enough to repair and resend, no longer.");
  s.days("internal_days", &TopicRetention::internal, positive,
         "The internal subjects repartition topic.");
  return s;
}

std::string check_role(const std::string& s) {
  for (auto r : {role::kAnalyst, role::kCare, role::kOversight, role::kPrivacyOfficer,
                 role::kOperator, role::kMetrics}) {
    if (s == r) return "";
  }
  return "'" + s + "' is not a role (analyst, care, oversight, privacy_officer, operator, metrics)";
}

Section<HttpTlsOptions> tls_section() {
  Section<HttpTlsOptions> s(
      "service.tls",
      "HTTPS for the API, console and /metrics. `mozaiek run` serves plain HTTP only on a "
      "loopback address or with service.allow_plain_http. Paths are relative to this config "
      "file.");
  s.text("certificate", &HttpTlsOptions::certificate,
         "PEM file with the server certificate (and its chain). Empty: plain HTTP. Its DNS "
         "names are allowed Host values.");
  s.text("key", &HttpTlsOptions::key,
         "PEM file with the certificate's private key. Keep it out of the config repository.");
  s.text("client_ca", &HttpTlsOptions::client_ca,
         "PEM file with the CA(s) whose client certificates are verified (mutual TLS); the "
         "verified subject identifies machine clients. Empty: no client certificates.");
  s.flag("require_client_certificate", &HttpTlsOptions::require_client_certificate,
         "Refuse the TLS handshake without a client certificate from client_ca.");
  return s;
}

Section<HttpLimits> limits_section() {
  Section<HttpLimits> s("service.http_limits",
                        "Bounds at the HTTP edge: what one client can make the server hold.");
  s.integer("max_body_bytes", &HttpLimits::max_body_bytes, config::between(1024, 64 << 20),
            "Largest request body; a larger one is answered 413 before it is read (chunked "
            "bodies too). Compressed request bodies are refused (415).",
            "bytes");
  s.integer("max_header_bytes", &HttpLimits::max_header_bytes, config::between(1024, 1 << 20),
            "Largest request line plus headers; beyond it 431.", "bytes");
  s.integer("max_connections", &HttpLimits::max_connections, config::between(1, 100000),
            "Connections open at once; further ones are closed as they are accepted.");
  s.integer("max_queued_requests", &HttpLimits::max_queued_requests, config::between(0, 100000),
            "Requests waiting for a worker; beyond it 503 instead of an unbounded queue.");
  s.integer("request_timeout_ms", &HttpLimits::request_timeout_ms, config::between(100, 600000),
            "Time to receive one whole request (and longest idle keep-alive); a slower client "
            "is disconnected.",
            "ms");
  s.integer("threads", &HttpLimits::threads, config::between(2, 1024),
            "Workers that run handlers and live streams.");
  s.integer("max_streams", &HttpLimits::max_streams, config::between(1, 1000),
            "Live event streams open at once (each holds a worker; keep it below threads).");
  s.integer("max_streams_per_principal", &HttpLimits::max_streams_per_principal,
            config::between(1, 1000), "Live event streams one principal may hold open.");
  return s;
}

Section<DemoIdentity> demo_identity_section() {
  Section<DemoIdentity> s(
      "service.demo_identity",
      "A built-in identity granted to every request, for a laptop or demo only: refused unless "
      "service.http_listen is a loopback address, and announced in the log at start.");
  s.text("name", &DemoIdentity::name, "The principal's name in audit and action records.",
         config::check_not_empty);
  s.list("roles", &DemoIdentity::roles, "Its roles.", check_role,
         "analyst, care, oversight, privacy_officer, operator, metrics");
  return s;
}

Section<Settings> service_section() {
  Section<Settings> s("service", "The mozaiek process.");
  s.text("http_listen", &Settings::http_listen,
         "Address of /metrics, /healthz, /readyz, the API and the console. Port 0 picks a free "
         "port.",
         check_listen, "host:port");
  s.custom({"auth", "map", "", "", "",
            "Who may call the HTTP API (OpenID Connect, client certificates); see "
            "`service.auth`."},
           [](const YAML::Node& v, const std::string& path, Settings& out,
              std::vector<std::string>& errors) {
             auth::parse_auth_settings(v, path, out.auth, errors);
           });
  s.custom({"tls", "map", "", "", "", "HTTPS and mutual TLS; see `service.tls`."},
           [](const YAML::Node& v, const std::string& path, Settings& out,
              std::vector<std::string>& errors) { tls_section().parse(v, path, out.tls, errors); });
  s.custom({"http_limits", "map", "", "", "",
            "Bounds at the HTTP edge; see `service.http_limits`."},
           [](const YAML::Node& v, const std::string& path, Settings& out,
              std::vector<std::string>& errors) {
             limits_section().parse(v, path, out.http_limits, errors);
           });
  s.list("allowed_hosts", &Settings::allowed_hosts,
         "Host header values (without port) answered besides the listen host, localhost, "
         "127.0.0.1, ::1 and the certificate's DNS names (`*.example.nl` covers one label); "
         "any other Host is refused (400).");
  s.flag("allow_plain_http", &Settings::allow_plain_http,
         "Serve plain HTTP on a non-loopback address (e.g. behind a TLS-terminating proxy on "
         "the same host). Without it `mozaiek run` refuses to start there without "
         "service.tls.certificate.");
  s.custom({"demo_identity", "map", "", "", "",
            "Loopback-only built-in identity; see `service.demo_identity`."},
           [](const YAML::Node& v, const std::string& path, Settings& out,
              std::vector<std::string>& errors) {
             demo_identity_section().parse(v, path, out.demo_identity, errors);
           });
  s.text("state_dir", &Settings::state_dir,
         "RocksDB state directory (scores, contributions, links). Keep it on local disk.",
         config::check_not_empty, "non-empty path");
  s.choice("log_level", &Settings::log_level,
           {"trace", "debug", "info", "warn", "error", "critical", "off"}, "Log level.");
  s.list("debug", &Settings::debug,
         "Subsystems to trace at debug level regardless of log_level (e.g. kafka, intake, "
         "convergence, state, http).",
         config::check_identifier, "a-z 0-9 _ -");
  return s;
}

Section<Settings> kafka_section() {
  Section<Settings> s("kafka", "Kafka connection, topics and client properties.");
  s.text("brokers", &Settings::brokers,
         "'embedded' starts an in-process Kafka cluster (laptop, demo, tests); otherwise the "
         "bootstrap host:port list.",
         check_brokers, "embedded or host:port,...");
  s.text("group_id", &Settings::group_id,
         "Consumer group prefix; the stages consume as <group_id>.intake and "
         "<group_id>.convergence.",
         check_kafka_name, kKafkaName);
  s.integer("partitions", &Settings::partitions, config::between(1, 1024),
            "Partitions of topics mozaiek creates; also the partition labels of consumer lag.");
  s.integer("replication_factor", &Settings::replication_factor, config::between(1, 16),
            "Replication factor of topics mozaiek creates (1 for the embedded cluster).");
  s.integer("commit_interval_ms", &Settings::commit_interval_ms, config::between(0, 600000),
            "The stages flush outputs and state and commit offsets at most this often, and "
            "whenever their input is idle; 0 = after every polled batch. Longer: fewer waits "
            "for acknowledgements, more records reprocessed after a crash (alerts stay "
            "idempotent by alert_id).");
  s.custom({"topics", "map", "", "", "", "Topic names; see `kafka.topics`."},
           [](const YAML::Node& v, const std::string& path, Settings& out,
              std::vector<std::string>& errors) {
             topics_section().parse(v, path, out.topics, errors);
           });
  s.custom({"retention", "map", "", "", "", "Topic retention; see `kafka.retention`."},
           [](const YAML::Node& v, const std::string& path, Settings& out,
              std::vector<std::string>& errors) {
             retention_section().parse(v, path, out.retention, errors);
           });
  s.custom({"properties", "map", "", "{}",
            "no bootstrap.servers, group.id, client.id, "
            "enable.auto.commit",
            "librdkafka properties passed as-is (security.protocol, sasl.*, ssl.*, ...). "
            "`${NAME}` in a value is replaced by environment variable NAME, so secrets stay out "
            "of this file."},
           parse_properties);
  return s;
}

Section<Settings> privacy_settings_section() {
  Section<Settings> s("privacy", "");
  s.text("pseudonym_key_file", &Settings::pseudonym_key_file,
         "File holding the HMAC-SHA256 key for person pseudonyms (at least 16 bytes; a "
         "trailing newline is ignored), relative to this config file; or a versioned key "
         "list (first line `mozaiek-pseudonym-keys`, then `1:<key>`, `2:<key>`, ...; the "
         "last is the running version, see `mozaiek rekey`). $MOZAIEK_PSEUDONYM_KEY takes "
         "precedence and may hold the same. Never commit a key to the config repository.",
         config::check_not_empty);
  s.text("dlq_key_file", &Settings::dlq_key_file,
         "File holding the AES-256 key (64 hex digits, `openssl rand -hex 32`) that seals the "
         "original bytes of dead letters, relative to this config file. $MOZAIEK_DLQ_KEY takes "
         "precedence. Without either, dead letters keep only a SHA-256 and the size of the "
         "original.",
         config::check_not_empty);
  s.integer("dlq_max_sealed_bytes", &Settings::dlq_max_sealed_bytes,
            config::between(0, static_cast<double>(kMaxDlqSealedBytes)),
            "How much of a rejected record is sealed into its dead letter; the rest is cut "
            "(the hash covers all of it).",
            "bytes");
  s.days("state_wall_clock_grace_days", &Settings::state_wall_clock_grace, config::greater_than(0),
         "State expires on wall-clock time as well as event time: at the latest this long "
         "after it would have expired had the watermark kept up with the clock.");
  s.handled_elsewhere("retention_days");
  s.handled_elsewhere("min_cell_size");
  return s;
}

// The top-level map. Operator sections are parsed by load_operator_config;
// they are declared here so unknown top-level keys are caught and documented.
Section<Settings> root_section() {
  Section<Settings> s("", "The sections of a mozaiek config file.");
  auto sub = [](Section<Settings> (*make)()) {
    return [make](const YAML::Node& v, const std::string& path, Settings& out,
                  std::vector<std::string>& errors) { make().parse(v, path, out, errors); };
  };
  auto elsewhere = [](const YAML::Node&, const std::string&, Settings&, std::vector<std::string>&) {
  };
  s.custom({"service", "map", "", "", "", "HTTP listener, state directory, logging."},
           sub(service_section));
  s.custom({"kafka", "map", "", "", "", "Brokers, consumer group, topics, client properties."},
           sub(kafka_section));
  s.custom({"privacy", "map", "", "", "",
            "Pseudonym key file, DLQ key file and sealing budget, state retention."},
           sub(privacy_settings_section));
  s.custom({"catalogue", "map", "", "", "",
            "Indicator catalogue, age groups, nationality "
            "regions."},
           elsewhere);
  s.custom({"sources", "map", "", "", "", "Partner organisations and their policies."}, elsewhere);
  s.custom({"rules", "map", "", "", "", "Convergence rules per subject type."}, elsewhere);
  s.custom({"limits", "map", "", "", "", "Bounds on one signal."}, elsewhere);
  s.custom({"metrics", "map", "", "", "", "Bounded metric label sets."}, elsewhere);
  s.custom({"oversight", "map", "", "", "",
            "Chain oversight: melding deadline, MOB spike rule, registration counting rules."},
           elsewhere);
  s.custom({"linking", "map", "", "", "", "Links between subjects and the network rules."},
           elsewhere);
  return s;
}

void check_topics(const YAML::Node& root, const Settings& s, std::vector<std::string>& errors) {
  const std::string changelog = s.changelog_topic();
  const std::vector<std::pair<std::string, const std::string*>> fixed{
      {"chain_events", &s.topics.chain_events},
      {"chain_prefix", &s.topics.chain_prefix},
      {"alerts", &s.topics.alerts},
      {"alerts_care", &s.topics.alerts_care},
      {"alert_actions", &s.topics.alert_actions},
      {"dlq", &s.topics.dlq},
      {"audit", &s.topics.audit},
      {"subjects", &s.topics.subjects},
      {"changelog", &changelog}};
  const YAML::Node topics = root["kafka"] && root["kafka"].IsMap() && root["kafka"]["topics"] &&
                                    root["kafka"]["topics"].IsMap()
                                ? root["kafka"]["topics"]
                                : YAML::Node();
  auto at = [&](const std::string& key) {
    return topics.IsDefined() && topics.IsMap() && topics[key] ? topics[key] : YAML::Node();
  };
  std::set<std::string> names;
  for (const auto& [key, name] : fixed) {
    const std::string path = "kafka.topics." + key;
    if (!names.insert(*name).second) {
      add_error(errors, path, "'" + *name + "' is already used by another topic", at(key));
    }
    if (key != "chain_events" && key != "chain_prefix" &&
        name->starts_with(s.topics.chain_prefix)) {
      add_error(errors, path,
                "'" + *name + "' starts with kafka.topics.chain_prefix '" + s.topics.chain_prefix +
                    "': intake would consume it as a partner's chain events",
                at(key));
    }
    if (!s.topics.signals_prefix.empty() && name->starts_with(s.topics.signals_prefix)) {
      add_error(errors, path,
                "'" + *name + "' starts with kafka.topics.signals_prefix '" +
                    s.topics.signals_prefix + "': intake would consume it as partner signals",
                at(key));
    }
  }
}

}  // namespace

bool load_settings(const std::string& path, Settings& out, std::vector<std::string>& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back("cannot read the config file: " + std::string(std::strerror(errno)));
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  return load_settings_text(text.str(), path, out, errors);
}

bool load_settings_text(const std::string& text, const std::string& path, Settings& out,
                        std::vector<std::string>& errors) {
  const std::size_t before = errors.size();
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    errors.push_back("YAML syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
                     std::to_string(e.mark.column + 1) + ": " + e.msg);
    return false;
  }
  if (!root.IsDefined() || root.IsNull()) {
    errors.emplace_back("the file is empty: expected the sections of a mozaiek config");
    return false;
  }
  if (!root.IsMap()) {
    add_error(errors, "(top level)", "must be a map of sections", root);
    return false;
  }

  Settings draft;
  const YAML::Node& doc = root;  // const lookups: operator[] must not insert keys
  try {
    root_section().parse(doc, "", draft, errors);
    load_operator_config(doc, draft.operators, errors, fs::path(path).parent_path().string());
    check_topics(doc, draft, errors);
  } catch (const YAML::Exception& e) {
    // Not expected: every lookup is guarded. Reported rather than thrown.
    errors.push_back("cannot interpret the config: " + std::string(e.what()));
  }
  if (draft.tls.enabled() && draft.tls.key.empty()) {
    errors.emplace_back("service.tls.key: required with service.tls.certificate");
  }
  if (draft.tls.require_client_certificate && draft.tls.client_ca.empty()) {
    errors.emplace_back("service.tls.client_ca: required with require_client_certificate");
  }
  if (errors.size() != before) return false;
  for (std::string* file : {&draft.tls.certificate, &draft.tls.key, &draft.tls.client_ca}) {
    if (!file->empty() && fs::path(*file).is_relative()) {
      *file = (fs::path(path).parent_path() / *file).string();
    }
  }
  draft.config_path = path;
  out = std::move(draft);
  return true;
}

namespace {

// Why key material is no usable key or versioned key list, if it is not.
std::optional<std::string> key_list_problem(std::string_view material) {
  try {
    const Pseudonymiser probe(material);
  } catch (const std::invalid_argument& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace

Status load_pseudonym_key(const Settings& settings, bool demo, std::string& key) {
  key.clear();
  if (const char* env = std::getenv(kPseudonymKeyEnv); env != nullptr && *env != '\0') {
    if (std::strlen(env) < kMinPseudonymKeyBytes) {
      return Status::error(std::string("$") + kPseudonymKeyEnv + " must hold at least " +
                           std::to_string(kMinPseudonymKeyBytes) +
                           " bytes (e.g. the output of `openssl rand -hex 32`)");
    }
    if (auto bad = key_list_problem(env)) {
      return Status::error(std::string("$") + kPseudonymKeyEnv + ": " + *bad);
    }
    key = env;
    spdlog::info("pseudonym key: from ${}", kPseudonymKeyEnv);
    return Status::ok();
  }
  if (!settings.pseudonym_key_file.empty()) {
    fs::path p(settings.pseudonym_key_file);
    if (p.is_relative() && !settings.config_path.empty()) {
      p = fs::path(settings.config_path).parent_path() / p;
    }
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      return Status::error("privacy.pseudonym_key_file: cannot read '" + p.string() +
                           "': " + std::strerror(errno));
    }
    std::stringstream buf;
    buf << in.rdbuf();
    std::string k = buf.str();
    while (!k.empty() && (k.back() == '\n' || k.back() == '\r')) k.pop_back();
    if (k.size() < kMinPseudonymKeyBytes) {
      return Status::error("privacy.pseudonym_key_file: '" + p.string() + "' must hold at least " +
                           std::to_string(kMinPseudonymKeyBytes) + " bytes");
    }
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      spdlog::warn("pseudonym key file {} is readable by group or others; chmod 600 it",
                   p.string());
    }
    if (auto bad = key_list_problem(k)) {
      return Status::error("privacy.pseudonym_key_file: '" + p.string() + "': " + *bad);
    }
    key = std::move(k);
    spdlog::info("pseudonym key: from {}", p.string());
    return Status::ok();
  }
  if (demo) {
    key = kDemoPseudonymKey;
    spdlog::warn(
        "pseudonym key: using the well-known DEMO key; pseudonyms are not protected. For real "
        "data set ${} or privacy.pseudonym_key_file.",
        kPseudonymKeyEnv);
    return Status::ok();
  }
  return Status::error(std::string("no pseudonym key: set $") + kPseudonymKeyEnv +
                       " or privacy.pseudonym_key_file (a file holding at least " +
                       std::to_string(kMinPseudonymKeyBytes) +
                       " random bytes, e.g. from `openssl rand -hex 32`, outside the config "
                       "repository); `mozaiek demo` runs with a built-in demo key");
}

Status load_dlq_key(const Settings& settings, std::optional<DlqKey>& key) {
  key.reset();
  DlqKey k;
  if (const char* env = std::getenv(kDlqKeyEnv); env != nullptr && *env != '\0') {
    if (Status s = parse_dlq_key(env, k); !s) {
      return Status::error(std::string("$") + kDlqKeyEnv + ": " + s.message());
    }
    key = std::move(k);
    return Status::ok();
  }
  if (settings.dlq_key_file.empty()) return Status::ok();
  fs::path p(settings.dlq_key_file);
  if (p.is_relative() && !settings.config_path.empty()) {
    p = fs::path(settings.config_path).parent_path() / p;
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    return Status::error("privacy.dlq_key_file: cannot read '" + p.string() +
                         "': " + std::strerror(errno));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  if (Status s = parse_dlq_key(buf.str(), k); !s) {
    return Status::error("privacy.dlq_key_file: '" + p.string() + "': " + s.message());
  }
  key = std::move(k);
  return Status::ok();
}

bool is_loopback_listen(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string settings_reference_markdown() {
  std::vector<config::SectionDoc> docs{
      root_section().doc(),   service_section().doc(),       tls_section().doc(),
      limits_section().doc(), demo_identity_section().doc(), kafka_section().doc(),
      topics_section().doc(), retention_section().doc(),     privacy_settings_section().doc()};
  for (auto& d : auth::auth_settings_docs()) docs.push_back(std::move(d));
  for (auto& d : operator_config_reference()) docs.push_back(std::move(d));
  return config::render_markdown(
      "mozaiek configuration reference",
      "Generated by `mozaiek config-reference` from the option declarations in the source "
      "(`stream/config_schema.h`); do not edit by hand. Check a file with "
      "`mozaiek check-config FILE`: every error names the YAML path of the bad key. Durations "
      "are numbers of the unit in the key name (`_days`, `_seconds`) and may be fractional. "
      "\"Runtime change\" says whether a running service picks up a new value without a "
      "restart.",
      docs);
}

}  // namespace mozaiek
