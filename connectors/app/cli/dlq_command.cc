// `mozaiek dlq open`: reads dead letters (a file of DLQ records, or the DLQ
// topic) and prints their sealed originals opened with the DLQ key, for a
// repair operator who holds that key. One JSON line per dead letter on
// stdout: where it came from, why, and the original (as a string when it is
// UTF-8, else base64), so it can be fixed and resent.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "connectors/app/cli/commands.h"
#include "connectors/app/settings.h"
#include "connectors/kafka/kafka_source.h"
#include "operators/intake/dead_letter.h"
#include "stream/json_writer.h"

namespace mozaiek::cli {
namespace {

struct DlqOpenOptions {
  std::string key_file;
  std::string input;
  std::string brokers;
  std::string topic = "mozaiek.dlq";
  double idle_seconds = 3;
};

bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xe  ? 3
                    : (c >> 3) == 0x1e ? 4
                                       : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += n;
  }
  return true;
}

void append_base64(std::string_view bytes, std::string& out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  auto at = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(v >> shift) & 0x3f]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return;
  std::uint32_t v = at(i) << 16;
  if (rest == 2) v |= at(i + 1) << 8;
  out.push_back(kAlphabet[(v >> 18) & 0x3f]);
  out.push_back(kAlphabet[(v >> 12) & 0x3f]);
  out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 0x3f] : '=');
  out.push_back('=');
}

// Prints one opened dead letter; false (with the reason on stderr) when it
// does not open.
bool print_opened(std::string_view record, const DlqKey& key, const std::string& where) {
  OpenedDeadLetter d;
  if (Status s = open_dead_letter(record, key, d); !s) {
    std::fprintf(stderr, "mozaiek dlq open: %s: %s\n", where.c_str(), s.message().c_str());
    return false;
  }
  std::string line;
  JsonWriter w(line);
  w.begin_object()
      .key("source_topic")
      .string(d.source_topic)
      .key("partition")
      .integer(d.partition)
      .key("offset")
      .integer(d.offset)
      .key("reason")
      .string(d.reason)
      .key("detail")
      .string(d.detail)
      .key("rejected_at")
      .string(d.rejected_at)
      .key("original_size")
      .integer(static_cast<std::int64_t>(d.original_size))
      .key("original_sha256")
      .string(d.original_sha256)
      .key("sealed")
      .boolean(d.sealed)
      .key("truncated")
      .boolean(d.truncated)
      .key("hash_verified")
      .boolean(d.hash_verified);
  if (d.sealed) {
    if (is_utf8(d.original)) {
      w.key("original").string(d.original);
    } else {
      w.key("original_base64").raw("\"");
      append_base64(d.original, line);
      line.push_back('"');
    }
  }
  w.end_object();
  std::printf("%s\n", line.c_str());
  return true;
}

int open_file(const DlqOpenOptions& o, const DlqKey& key) {
  std::ifstream in(o.input, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "mozaiek dlq open: --input: cannot read '%s'\n", o.input.c_str());
    return 1;
  }
  std::string line;
  std::size_t n = 0, failed = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (!print_opened(line, key, o.input + ":" + std::to_string(n))) ++failed;
  }
  return failed == 0 ? 0 : 1;
}

int open_topic(const DlqOpenOptions& o, const DlqKey& key) {
  KafkaSettings kafka;
  kafka.brokers = o.brokers;
  Status s = Status::ok();
  // A group of its own that never commits: every run reads the whole topic.
  auto source = KafkaSource::create(
      kafka,
      "mozaiek.dlq-open." +
          std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()),
      {o.topic}, s);
  if (!source) {
    std::fprintf(stderr, "mozaiek dlq open: %s\n", s.message().c_str());
    return 1;
  }
  RecordBatch batch;
  std::size_t failed = 0;
  auto idle_since = std::chrono::steady_clock::now();
  const auto idle = std::chrono::duration<double>(o.idle_seconds);
  while (std::chrono::steady_clock::now() - idle_since < idle) {
    if (Status p = source->poll(batch, 1000, Millis{200}); !p) {
      std::fprintf(stderr, "mozaiek dlq open: %s\n", p.message().c_str());
      return 1;
    }
    if (batch.records.empty()) continue;
    idle_since = std::chrono::steady_clock::now();
    for (const auto& r : batch.records) {
      const std::string where = o.topic + "/" + std::to_string(raw(r.partition)) + "/" +
                                std::to_string(raw(r.offset));
      if (!print_opened(r.value, key, where)) ++failed;
    }
  }
  std::fflush(stdout);
  return failed == 0 ? 0 : 1;
}

int dlq_open(const DlqOpenOptions& o) {
  if (o.input.empty() == o.brokers.empty()) {
    std::fprintf(stderr, "mozaiek dlq open: give either --input FILE or --brokers with --topic\n");
    return 2;
  }
  std::ifstream in(o.key_file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "mozaiek dlq open: --key-file: cannot read '%s'\n", o.key_file.c_str());
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  DlqKey key;
  if (Status s = parse_dlq_key(text.str(), key); !s) {
    std::fprintf(stderr, "mozaiek dlq open: --key-file: %s\n", s.message().c_str());
    return 1;
  }
  return o.input.empty() ? open_topic(o, key) : open_file(o, key);
}

}  // namespace

void add_dlq_command(CLI::App& app, Runner& run) {
  auto* dlq = app.add_subcommand("dlq", "Dead letters: open sealed originals for repair.");
  dlq->require_subcommand(1);
  auto opts = std::make_shared<DlqOpenOptions>();
  auto* open = dlq->add_subcommand(
      "open",
      "Print the dead letters of a file or the DLQ topic with their sealed originals opened "
      "(one JSON line each; the original as `original`, or `original_base64` when it is not "
      "UTF-8). Needs the DLQ key; a dead letter sealed with another key, or altered, is named "
      "on stderr and the exit code is 1.");
  open->add_option("--key-file", opts->key_file,
                   "File holding the DLQ key (64 hex digits) the dead letters were sealed with")
      ->required();
  open->add_option("--input", opts->input, "NDJSON file of DLQ records (e.g. replay --dlq)");
  open->add_option("--brokers", opts->brokers, "Kafka bootstrap host:port list to read the topic");
  open->add_option("--topic", opts->topic, "The DLQ topic")->capture_default_str();
  open->add_option("--idle-seconds", opts->idle_seconds,
                   "With --brokers: stop after the topic has been quiet this long")
      ->capture_default_str();
  open->callback([opts, &run] { run = [opts] { return dlq_open(*opts); }; });
}

}  // namespace mozaiek::cli
