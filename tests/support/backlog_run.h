// A fixed history of generated partner records on a real broker, drained by
// `mozaiek run` processes (interrupted by SIGKILL or not) and compared with
// `mozaiek replay` of the same file: the harness of the delivery-order and
// crash-loop tests (tests/integration/).
//
// The history (`mozaiek generate --chain-events`) is produced once to the
// partner topics of a namespace; every deployment drains it under its own
// group id and its own output topics (its internal topics follow the group
// id), so one backlog serves several drains.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/support/real_kafka.h"
#include "tests/support/temp_dir.h"

namespace mozaiek::test {

// What a drain or a replay ended with.
struct BacklogOutcome {
  std::set<std::string> alert_ids;
  std::map<std::string, std::string> rule_of;  // alert id -> rule
  // alert_identity() -> the alert ids it was raised under (one each, if right).
  std::map<std::string, std::set<std::string>> ids_by_identity;
  std::size_t alert_records = 0;
  // Records dead-lettered, by reason, each record once (a dead letter
  // written again after a crash carries the same origin).
  std::map<std::string, std::size_t> dlq_by_reason;
  std::size_t dlq_records = 0;  // dead-letter records written, repeats included
  // replay's own counters (its summary line): records in, processed, dlq.
  struct Counted {
    std::uint64_t in = 0, processed = 0, dlq = 0;
  };
  std::optional<Counted> counted;
  std::size_t dlq() const;
};

// "<n> lost, <m> extra (by rule: ...)" of `got` against `want`.
std::string alert_differences(const BacklogOutcome& want, const BacklogOutcome& got);

// `mozaiek run` as a child process, stdout and stderr appended to a log.
class ServiceChild {
 public:
  ServiceChild(const std::string& config, const std::string& log, const std::string& key);
  ~ServiceChild();
  ServiceChild(const ServiceChild&) = delete;
  ServiceChild& operator=(const ServiceChild&) = delete;
  // Sends sig and waits for the process; returns its wait status.
  int stop(int sig);
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

class Backlog {
 public:
  static constexpr const char* kKey = "backlog-test-pseudonym-key-0123456789";

  // Generates `signals` signals (with chain events) with `seed` into a file
  // and produces them, in file order, to the partner topics of a fresh
  // namespace. Fails the calling test on error.
  Backlog(RealKafka& kafka, std::size_t signals, std::uint64_t seed);

  const std::string& history() const { return history_; }
  std::size_t records() const { return records_; }
  const std::string& dir() const { return dir_.path(); }

  // A config for a deployment `name`: its own group id, output topics and
  // state directory; the partner topics of this backlog.
  std::string write_config(const std::string& name) const;
  // True once the deployment's stages have committed everything there is
  // (intake: all partner partitions; convergence: its internal topic), and
  // still have two seconds later.
  bool drained(const std::string& name, std::chrono::seconds deadline) const;
  // Reads the deployment's alert and DLQ topics to their ends.
  BacklogOutcome outcome(const std::string& name) const;
  // `mozaiek replay` of the history file.
  BacklogOutcome replay() const;

  std::string group(const std::string& name) const { return base_ + "-" + name; }

 private:
  // The history file and its records on the partner topics (ASSERTs).
  void load(std::size_t signals, std::uint64_t seed);
  bool committed_all_once(const std::string& name) const;

  RealKafka& kafka_;
  TempDir dir_{"mozaiek-backlog"};
  std::string base_;
  std::string history_;
  std::size_t records_ = 0;
};

}  // namespace mozaiek::test
