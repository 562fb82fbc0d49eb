// Writes the seed corpora of the binary targets from real encodings, so the
// checked-in seeds are what the service writes: tests/fuzz/corpus/
// internal_record/ from the signal and chain event seeds run through intake,
// routing and the codecs (plus a notice of each kind and an erasure), and
// tests/fuzz/corpus/changelog_value/ (selector byte + value, see
// changelog_value_fuzz.cc) from sample states. Not a fuzzer; run by hand
// after a codec changes: build-fuzz/fuzz_write_seeds tests/fuzz/corpus
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "operators/convergence/subject_codec.h"
#include "operators/intake/chain_intake.h"
#include "operators/intake/signal_intake.h"
#include "operators/linking/link_state.h"
#include "operators/oversight/oversight_records.h"
#include "operators/records/chain_codec.h"
#include "operators/records/chain_router.h"
#include "operators/records/entity_notice.h"
#include "operators/records/erasure_record.h"
#include "operators/records/routed_codec.h"
#include "operators/records/subject_router.h"
#include "tests/fuzz/fuzz_support.h"

namespace fs = std::filesystem;
using namespace mozaiek;

namespace {

std::vector<std::string> read_dir(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

void write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  const OperatorConfig& config = fuzz::shipped_config();
  const fs::path internal = root / "internal_record";
  std::string bytes;
  int n = 0;

  SignalIntake signals(config, fuzz::pseudonymiser());
  Signal signal;
  std::vector<RoutedSignal> routed;
  for (const auto& json : read_dir(root / "signal_v1")) {
    if (signals.parse(json, std::nullopt, signal)) continue;
    const std::size_t count = route_signal(signal, signal.observed_at, routed);
    for (std::size_t i = 0; i < count; ++i) {
      encode_routed(routed[i], config, bytes);
      write(internal, "routed_" + std::to_string(n++), bytes);
    }
  }
  ChainIntake chain(config, fuzz::pseudonymiser());
  ChainEvent event;
  std::vector<RoutedChainEvent> routed_chain;
  for (const auto& json : read_dir(root / "chain_event_v1")) {
    if (chain.parse(json, event)) continue;
    const std::size_t count = route_chain_event(event, event.at, routed_chain);
    for (std::size_t i = 0; i < count; ++i) {
      encode_routed_chain(routed_chain[i], config, bytes);
      write(internal, "chain_" + std::to_string(n++), bytes);
    }
  }
  EntityNotice notice;
  notice.from_type = SubjectType::vehicle;
  notice.from_key = "FR-AB123CD";
  notice.to_key = std::string(64, 'a');
  notice.at = EventTime{Millis{1'709'287'200'000}};
  notice.own_score = 4.5;
  notice.has_own_signals = true;
  notice.sources = {"coa", "kmar"};
  encode_notice(notice, bytes);
  write(internal, "notice_score", bytes);
  notice.participation = true;
  notice.alert_id = std::string(32, 'f');
  encode_notice(notice, bytes);
  write(internal, "notice_participation", bytes);
  EntityNotice erased;
  erased.erased = true;
  erased.from_key = std::string(64, 'b');
  erased.to_type = SubjectType::location;
  erased.to_key = "coa-budel";
  encode_notice(erased, bytes);
  write(internal, "notice_erased", bytes);
  encode_erasure(ErasureRecord{SubjectType::vehicle, "FR-AB123CD",
                               ProcTime{Millis{1'700'000'000'000}}},
                 bytes);
  write(internal, "erasure", bytes);

  // Changelog values: selector byte (changelog_value_fuzz.cc) + value.
  const fs::path values = root / "changelog_value";
  auto put = [&](char selector, const std::string& name, const std::string& value) {
    write(values, name, std::string(1, selector) + value);
  };
  convergence::SubjectCodec subjects(config);
  const auto params = convergence::RuleParams::from(config.rules[0], days(30), config.retention);
  convergence::Subject s;
  s.anchor_ms = 1'704'067'200'000;
  for (int i = 0; i < 3; ++i) {
    convergence::Entry& e = s.entries.emplace_back();
    e.signal_id = "sig-" + std::to_string(i);
    e.source = static_cast<SourceId>(i % config.sources.size());
    e.indicator = static_cast<IndicatorId>(i);
    e.observed_ms = s.anchor_ms + i * 86'400'000LL;
    e.reported_ms = e.observed_ms + 3'600'000;
    e.weight = 1.5;
    e.scaled = convergence::scaled_weight(e.weight, e.observed_ms, s.anchor_ms, params);
  }
  subjects.encode(s, bytes);
  put(0, "subject", bytes);
  s.alerted = true;
  s.level = 1;
  s.last_alert_ms = s.anchor_ms + 5;
  s.last_alert_score = 7.25;
  convergence::AlertIdText id;
  id.fill('c');
  s.alert_ids = {id};
  subjects.encode(s, bytes);
  put(0, "subject_alerted", bytes);

  linking::LinkCodec links(config);
  linking::EntityLinks el;
  linking::Link& l = el.links.emplace_back();
  l.type = SubjectType::vehicle;
  l.key = "FR-AB123CD";
  l.first_ms = 1'704'067'200'000;
  l.last_ms = l.first_ms + 86'400'000;
  l.signals.push_back({"sig-1", 0, 1, l.first_ms, l.first_ms + 1000});
  l.peer_at_ms = l.last_ms;
  l.peer_score = 3.5;
  l.peer_has_own = true;
  l.peer_sources = {0, 1};
  l.earlier_notices = {{l.first_ms, 1.0}};
  el.sources_seen.push_back({"sig-2", 1, 2, l.first_ms, l.first_ms + 5});
  el.noticed_score = 2.0;
  el.rules[linking::kLift].alerted = true;
  el.alert_ids = {std::string(32, 'd')};
  links.encode(el, bytes);
  put(1, "links", bytes);

  oversight::Melding m;
  m.from = "coa";
  m.to = "police";
  m.sent_at = EventTime{Millis{1'704'067'200'000}};
  m.sent_event_id = "e0";
  m.seen.add("e0");
  oversight::encode(m, bytes);
  put(2, "melding", bytes);
  oversight::Person p;
  p.status = oversight::PersonStatus::missing;
  p.location = "coa-budel";
  p.departed_from = {"coa-budel"};
  p.registrations.push_back({"e4", 2025, 3, "kmar", "comensha"});
  p.seen.add("e4");
  oversight::encode(p, bytes);
  put(3, "person", bytes);
  oversight::LocationState loc;
  loc.departures.push_back(
      {EventTime{Millis{1'704'067'200'000}}, "e2", "coa", std::string(64, 'a')});
  oversight::encode(loc, bytes);
  put(4, "location", bytes);
  oversight::ErasedCounts counts;
  counts[{0, 2025, "all", "all"}] = 3;
  oversight::encode(counts, bytes);
  put(5, "erased_counts", bytes);
  std::printf("wrote %d routed records and the notice, erasure and changelog seeds\n", n);
  return 0;
}
