// SyntheticChain: a deterministic generator of chain event v1 records (topic
// chain.events) to go with SyntheticTraffic's signals, for `mozaiek demo`,
// `mozaiek generate --chain` and tests. Rates from the domain brief:
//  - meldingen between partner organisations, acknowledged within hours to
//    days (most), answered with feedback after weeks to months (fewer than
//    half), some acknowledged never, some answered without an ack, a few
//    events sent twice (same event id);
//  - arrivals at reception sites; MOB departures of minors (often) and
//    adults (less often) days to months after arrival, a few with no
//    arrival on record; transfers; re-appearances (police, Eurodac, ...);
//  - a planted spike: Vietnamese minors leaving the protected shelter within
//    two days of each other (the brief's "stopover to the UK");
//  - the planted James case leaves MOB right after his signals converge
//    (worrying_departure), re-appears at the police and is registered;
//  - the 2018 registry log: victim.registered per report, from the brief's
//    2018 numbers (see registration_log_2018()).
//
// Everything is planned in the constructor and sorted by reported_at; next()
// hands out one record at a time. Same options -> same bytes. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "connectors/synthetic/synthetic_traffic.h"
#include "stream/record.h"
#include "stream/time.h"

namespace mozaiek {

struct ChainTrafficOptions {
  std::uint64_t seed = 42;
  EventTime start = event_time_from_ms(1'736'121'600'000);  // as TrafficOptions::start
  Millis span = days(120);
  std::size_t meldingen = 300;
  std::size_t persons = 400;
  bool registrations_2018 = true;
  std::string topic = "chain.events";
  std::vector<std::string> sources;    // organisation names; empty = the brief's partners
  std::vector<std::string> locations;  // "coa-*" reception sites; empty = a small default set
  std::vector<PlantedCase> planted;    // from SyntheticTraffic: "james" departs MOB
};

class SyntheticChain {
 public:
  explicit SyntheticChain(const ChainTrafficOptions& options);
  SyntheticChain(const SyntheticChain&) = delete;
  SyntheticChain& operator=(const SyntheticChain&) = delete;

  // Next record in reporting order: topic, key (melding id or event id), value.
  bool next(OutRecord& out);
  // reported_at of the next record (kMaxEventTime when done), for merging
  // with the signal generator by reporting time.
  EventTime next_reported_at() const;
  std::size_t total() const { return records_.size(); }
  // The location of the planted spike.
  const std::string& spike_location() const { return spike_location_; }

 private:
  struct Planned {
    std::int64_t reported_ms;
    std::string key;
    std::string json;
  };
  class Planner;  // the planning steps, in synthetic_chain.cc
  std::vector<Planned> records_;
  std::size_t next_ = 0;
  std::string topic_;
  std::string spike_location_;
};

// Partner signals and chain events merged by reporting time: what `mozaiek
// demo` produces and `mozaiek generate --chain-events` writes. The chain
// generator gets the signal generator's planted cases. Not thread-safe.
class PartnerTraffic {
 public:
  // catalogue is borrowed. chain.planted is filled in from the signals.
  PartnerTraffic(const TrafficOptions& signals, const Catalogue& catalogue,
                 ChainTrafficOptions chain, bool with_chain);
  bool next(OutRecord& out);
  const SyntheticTraffic& signals() const { return signals_; }
  std::size_t chain_events() const { return chain_ ? chain_->total() : 0; }

 private:
  SyntheticTraffic signals_;
  std::unique_ptr<SyntheticChain> chain_;
  OutRecord pending_;
  bool have_pending_ = false;
  EventTime pending_at_ = kMaxEventTime;
};

// The 2018 registry log as victim.registered JSON records (reported in
// early 2025, a backfill): 838 reports of 742 unique persons (police 530,
// KMar 86, NLA 75, care coordinators 91, other 56), 74 of them reported
// only by KMar and only for sexual exploitation, so the NRM rule counts
// 668. `start` is the first reporting time.
std::vector<std::string> registration_log_2018(std::uint64_t seed, EventTime start);

}  // namespace mozaiek
