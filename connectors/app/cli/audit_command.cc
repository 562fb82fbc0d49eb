// `mozaiek audit`: the audit trail of a subject (persons by pseudonym) or of
// a principal, read back from the audit topic of the config's cluster, for
// the privacy officer. The same records GET /api/audit answers, but read
// from the whole topic rather than the service's in-memory index. The
// read-back is itself audited (action audit_read) before anything is
// printed; no audit record, no trail.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>

#include "connectors/app/cli/commands.h"
#include "connectors/app/settings.h"
#include "connectors/http/api/audit.h"
#include "connectors/http/api/audit_api.h"
#include "connectors/http/api/audit_index.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"

namespace mozaiek::cli {
namespace {

struct AuditOptions {
  std::string config;
  std::string subject;
  std::string principal;
  std::string user;
  std::string brokers;
  std::size_t limit = 100;
  int timeout_s = 60;
};

// Every assigned partition read up to its end as last fetched.
bool read_to_end(KafkaSource& source) {
  const auto lags = source.lag();
  if (lags.empty()) return false;
  for (const auto& l : lags) {
    if (!l.high_watermark) return false;
    if (raw(*l.high_watermark) == 0) continue;
    if (!l.position || raw(*l.position) < raw(*l.high_watermark)) return false;
  }
  return true;
}

int audit(const AuditOptions& o) {
  Settings settings;
  std::vector<std::string> errors;
  if (!load_settings(o.config, settings, errors)) {
    for (const auto& e : errors) std::fprintf(stderr, "config error: %s\n", e.c_str());
    return 2;
  }
  if (!o.brokers.empty()) settings.brokers = o.brokers;
  AuditQuery query;
  query.limit = o.limit;
  if (o.subject.empty() == o.principal.empty()) {
    std::fprintf(stderr, "error: name either --subject TYPE:KEY or --principal NAME\n");
    return 2;
  }
  if (!o.subject.empty()) {
    const auto colon = o.subject.find(':');
    AuditSubject subject;
    auto bad = colon == std::string::npos
                   ? std::optional<std::string>("expected TYPE:KEY")
                   : parse_audit_subject(o.subject.substr(0, colon), o.subject.substr(colon + 1),
                                         subject);
    if (bad) {
      std::fprintf(stderr, "error: --subject: %s\n", bad->c_str());
      return 2;
    }
    query.subject = std::move(subject);
  } else {
    query.principal = o.principal;
  }
  if (o.limit < 1 || o.limit > kMaxAuditReadLimit) {
    std::fprintf(stderr, "error: --limit must be from 1 to %zu\n", kMaxAuditReadLimit);
    return 2;
  }
  const char* login = std::getenv("USER");
  const std::string user = !o.user.empty() ? o.user : (login != nullptr ? login : "");
  if (user.empty() || user.size() > 128) {
    std::fprintf(stderr, "error: --user (1 to 128 characters; default $USER) is required: "
                         "read-backs are audited\n");
    return 2;
  }

  if (settings.brokers == "embedded") {
    std::fprintf(stderr, "error: kafka.brokers is 'embedded': that cluster lives inside a running "
                         "`mozaiek run`; use its GET /api/audit, or --brokers HOST:PORT\n");
    return 2;
  }

  // A group of its own that never commits: reads the topic from its start.
  const KafkaSettings kafka = settings.kafka_settings();
  Status status = Status::ok();
  auto source = KafkaSource::create(
      kafka,
      settings.group_id + ".audit-read." + std::to_string(::getpid()) + "." +
          std::to_string(std::chrono::system_clock::now().time_since_epoch().count()),
      {settings.topics.audit}, status);
  if (!source) {
    std::fprintf(stderr, "error: Kafka consumer: %s\n", status.message().c_str());
    return 1;
  }
  std::deque<std::string> trail;  // oldest first, the newest `limit` kept
  bool more = false;
  std::uint64_t unreadable = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
  RecordBatch batch;
  while (true) {
    if (Status s = source->poll(batch, 1000, Millis{200}); !s) {
      std::fprintf(stderr, "error: reading %s: %s\n", settings.topics.audit.c_str(),
                   s.message().c_str());
      return 1;
    }
    for (const auto& r : batch.records) {
      AuditKeys keys;
      std::string error;
      if (!read_audit_keys(r.value, keys, error)) {
        ++unreadable;
        continue;
      }
      if (!audit_matches(query, keys)) continue;
      trail.emplace_back(r.value);
      if (trail.size() > query.limit) {
        trail.pop_front();
        more = true;
      }
    }
    if (batch.records.empty() && read_to_end(*source)) break;
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "error: %s not read to its end within %d s (--timeout); nothing shown\n",
                   settings.topics.audit.c_str(), o.timeout_s);
      return 1;
    }
  }
  source.reset();

  SystemClock clock;
  AuditRecord record;
  record.principal = user;
  record.via = "cli";
  record.action = std::string(audit_action::kAuditRead);
  record.method = "CLI";
  record.route = "mozaiek audit";
  record.at = clock.now();
  record.subject = query.subject;
  record.about_principal = query.principal;
  record.count = trail.size();
  auto sink = KafkaSink::create(kafka, status);
  std::string json;
  if (sink) status = write_audit(*sink, settings.topics.audit, record, json);
  if (status) status = sink->flush(seconds(30));
  if (!status) {
    std::fprintf(stderr, "error: the read-back could not be audited (nothing shown): %s\n",
                 status.message().c_str());
    return 1;
  }
  for (auto it = trail.rbegin(); it != trail.rend(); ++it) std::printf("%s\n", it->c_str());
  std::fprintf(stderr, "%zu audit records%s (newest first); %llu records not audit v2 skipped\n",
               trail.size(), more ? ", older ones left out (--limit)" : "",
               static_cast<unsigned long long>(unreadable));
  return 0;
}

}  // namespace

void add_audit_command(CLI::App& app, Runner& run) {
  auto opts = std::make_shared<AuditOptions>();
  opts->config = default_config_path();
  auto* cmd = app.add_subcommand(
      "audit",
      "Print the audit trail of a subject or a principal from the audit topic of the config's\n"
      "cluster, newest first, one mozaiek.audit/v2 record per line (for the privacy officer).\n"
      "Persons by pseudonym only. The read-back is itself audited before it is printed.");
  cmd->add_option("--config", opts->config, "Config file")->capture_default_str();
  cmd->add_option(
      "--subject", opts->subject,
      "TYPE:KEY, e.g. person:<64-hex pseudonym>, vehicle:NL-AB123C, location:coa-budel");
  cmd->add_option("--principal", opts->principal, "A principal's name instead of a subject");
  cmd->add_option("--limit", opts->limit, "At most this many records (1 to 1000)")
      ->capture_default_str();
  cmd->add_option("--user", opts->user, "Who reads; audited (default: $USER)");
  cmd->add_option("--brokers", opts->brokers, "Override kafka.brokers");
  cmd->add_option("--timeout", opts->timeout_s, "Seconds to read the topic to its end")
      ->capture_default_str();
  cmd->callback([opts, &run] { run = [opts] { return audit(*opts); }; });
}

}  // namespace mozaiek::cli
