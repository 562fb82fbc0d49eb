#include "tests/support/real_kafka.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/ports.h"

namespace mozaiek::test {
namespace {

constexpr const char* kScript = MOZAIEK_SOURCE_DIR "/tests/integration/kafka/kafka-broker.sh";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

int exit_code(int system_status) {
  if (system_status == -1) return -1;
  return WIFEXITED(system_status) ? WEXITSTATUS(system_status) : 128 + WTERMSIG(system_status);
}

}  // namespace

RealKafka& RealKafka::instance() {
  // Destroyed at exit, which stops the broker.
  static RealKafka kafka;
  return kafka;
}

RealKafka::RealKafka() { start(); }
RealKafka::~RealKafka() { stop(); }

void RealKafka::start() {
  if (const char* external = std::getenv("MOZAIEK_TEST_KAFKA_BOOTSTRAP"); external && *external) {
    bootstrap_ = external;
    return;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/mozaiek-kafka-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    error_ = "cannot create a work directory from " + templ;
    return;
  }
  workdir_ = templ;
  const std::string out = workdir_ + "/start.out";
  const std::string err = workdir_ + "/start.err";
  owned_ = true;
  // The pair is free now; should another process bind one of them before
  // the broker does, the script refuses it and we try another pair.
  int code = 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = free_loopback_ports(2);  // client port, controller port
    if (port == 0) {
      error_ = "no free loopback port pair for the broker";
      return;
    }
    const std::string cmd = "MOZAIEK_KAFKA_OWNER_PID=" + std::to_string(::getpid()) + " bash " +
                            shell_quote(kScript) + " start " + shell_quote(workdir_) + " " +
                            std::to_string(port) + " >" + shell_quote(out) + " 2>" +
                            shell_quote(err) + " </dev/null";
    code = exit_code(std::system(cmd.c_str()));
    if (code == 0 || read_file(err).find("already in use") == std::string::npos) break;
  }
  if (code != 0) {
    error_ = std::string(kScript) + " start exited with " + std::to_string(code) + ":\n" +
             read_file(err);
    return;
  }
  std::string printed = read_file(out);
  while (!printed.empty() && (printed.back() == '\n' || printed.back() == ' ')) printed.pop_back();
  if (auto nl = printed.rfind('\n'); nl != std::string::npos) printed = printed.substr(nl + 1);
  if (printed.empty()) {
    error_ = std::string(kScript) + " start printed no bootstrap address:\n" + read_file(err);
    return;
  }
  bootstrap_ = printed;
}

void RealKafka::stop() {
  if (!owned_) return;
  const std::string cmd = "bash " + shell_quote(kScript) + " stop " + shell_quote(workdir_) +
                          " >/dev/null 2>&1";
  (void)std::system(cmd.c_str());
  if (std::getenv("MOZAIEK_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(workdir_, ec);
  }
  owned_ = false;
}

KafkaSettings RealKafka::settings() const {
  KafkaSettings s;
  s.brokers = bootstrap_;
  s.client_id = "mozaiek-test";
  s.partitions = 4;
  s.replication_factor = 1;
  return s;
}

std::string RealKafka::unique_name(std::string_view prefix) {
  return std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_);
}

}  // namespace mozaiek::test
