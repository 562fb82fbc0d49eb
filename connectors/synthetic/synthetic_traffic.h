// SyntheticTraffic: a deterministic generator of realistic partner traffic as
// signal v1 JSON records, for `mozaiek demo` (produced to Kafka), `mozaiek
// generate` (NDJSON), tests and the benchmark.
//
// The mix follows the domain brief: each source observes its own indicators,
// reports with its own delay (COA in two-weekly batches, police nightly, KMar
// and AVIM within hours, IND after days to weeks, ...), and names persons,
// vehicles and locations from large noise populations, so most subjects get
// one or two signals from one source and never converge. On top of the noise
// it plants three cases that must converge (James, the pickup van, the
// address hot-spot) and a share of malformed records for the DLQ.
//
// Lifecycle: the constructor plans every record (event time, reporting time,
// source, indicator, a per-record random salt) and sorts the plan by
// reported_at; next() renders one record at a time from the plan, so it is
// cheap (about 2M records/s) and reuses the caller's OutRecord buffers. The output
// depends only on the options and the catalogue (same seed -> same bytes).
// Not thread-safe; one owner calls next().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "operators/model/model.h"
#include "stream/record.h"
#include "stream/time.h"

namespace mozaiek {

struct TrafficOptions {
  std::uint64_t seed = 42;
  EventTime start = event_time_from_ms(1'736'121'600'000);  // 2025-01-06T00:00:00Z, a Monday
  Millis span = days(120);                                  // event time covered by noise
  std::size_t signals = 20000;                              // noise signals (planted come on top)
  bool plant_cases = true;                                  // James, the pickup van, the hot-spot
  double malformed_share = 0.002;  // share of noise records broken for the DLQ
  // Source names; topic = "signals." + name. Known names (coa, nidos, ind, avim,
  // kmar, police, nla, fairwork, municipality, care_coordinator, veilig_thuis,
  // riec) get their organisation's mix and delay; others a generic one.
  // Empty = all known names.
  std::vector<std::string> sources;
  // Configured location ids: "coa-*" are reception sites (the first ones
  // house the most residents), "nidos-*" Nidos units. Empty = a small default set.
  std::vector<std::string> locations;
  std::vector<std::string> indicators;  // catalogue codes to use; empty = the whole catalogue
};

// A case planted in the traffic, so tests and the demo can check it converges.
struct PlantedCase {
  std::string name;          // "james", "pickup_van", "hotspot"
  std::string subject_type;  // "person", "vehicle", "location"
  // person: "<id_scheme>:<id>" exactly as sent; vehicle: the plate as first sent;
  // location: the location id.
  std::string raw_subject;
  std::string country;  // vehicles: ISO alpha-2 country of the plate; empty otherwise
  // The case's signals in event order. Most name raw_subject (plates in
  // varying spellings); a few name a subject linked to it (the worker the
  // van took, ...).
  std::vector<std::string> signal_ids;
};

class SyntheticTraffic {
 public:
  // catalogue is borrowed and must outlive the generator.
  SyntheticTraffic(TrafficOptions options, const Catalogue& catalogue);
  SyntheticTraffic(const SyntheticTraffic&) = delete;
  SyntheticTraffic& operator=(const SyntheticTraffic&) = delete;
  ~SyntheticTraffic();

  // Next record in reporting order (reported_at ascending): topic
  // "signals.<source>", key = signal_id, value = JSON. Reuses out's buffers.
  // false when done.
  bool next(OutRecord& out);

  const std::vector<PlantedCase>& planted() const;
  std::size_t generated() const;
  // Records in total (noise + planted), and how many of them are malformed.
  std::size_t total() const;
  std::size_t malformed() const;
  // reported_at of the record last returned by next() (for pacing a replay);
  // also set for malformed records, whose JSON may not say it.
  EventTime last_reported_at() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  // the plan and render scratch; hides the profile tables
};

// Fast path for benchmarks: pre-generate n records into memory (the first n
// records in reporting order of a generator sized for n).
std::vector<OutRecord> generate_records(const TrafficOptions& options, const Catalogue& catalogue,
                                        std::size_t n);

// The benchmarks' traffic: n well-formed signals over a year from every
// configured source, location and indicator.
TrafficOptions benchmark_traffic(const OperatorConfig& config, std::size_t n, std::uint64_t seed);

}  // namespace mozaiek
