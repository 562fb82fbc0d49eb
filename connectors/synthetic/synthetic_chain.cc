// SyntheticChain, PartnerTraffic and the 2018 registry log: planning chain
// events (meldingen, arrivals, departures, transfers, re-appearances, the
// planted spike and James's departure) and rendering them as chain event v1.
#include "connectors/synthetic/synthetic_chain.h"

#include <algorithm>
#include <cmath>

#include "connectors/synthetic/synthetic_random.h"
#include "stream/json_writer.h"

namespace mozaiek {
namespace {

using synthetic::kDayMs;
using synthetic::kHourMs;
using synthetic::Rng;

const std::vector<std::string>& default_sources() {
  static const std::vector<std::string> s{
      "coa",         "nidos", "ind",      "avim",         "kmar",
      "police",      "nla",   "fairwork", "municipality", "care_coordinator",
      "veilig_thuis"};
  return s;
}

// Nationalities with the brief's mix (Sudanese, Eritrean, Syrian, Nigerian,
// Vietnamese, North-African minors; East-European workers).
constexpr const char* kNationalities[] = {"SD", "ER", "SY", "AF", "NG", "VN", "MA",
                                          "DZ", "UA", "PL", "RO", "TR", "BR", "CN"};

struct PersonRef {
  std::string scheme = "v-number";
  std::string id;
  const char* age_group = "adult";
  const char* nationality = "SY";
};

void write_person(JsonWriter& w, const PersonRef& p) {
  w.begin_object();
  w.key("type").string("person");
  w.key("id").string(p.id);
  w.key("id_scheme").string(p.scheme);
  w.key("age_group").string(p.age_group);
  w.key("nationality").string(p.nationality);
  w.end_object();
}

void write_location(JsonWriter& w, std::string_view id) {
  w.begin_object();
  w.key("type").string("location");
  w.key("id").string(id);
  w.key("kind").string("reception");
  w.end_object();
}

// The common head of a chain event; the caller adds its fields and closes it.
void head(JsonWriter& w, std::string_view event_id, std::string_view type, std::int64_t at_ms,
          std::int64_t reported_ms, std::string_view org) {
  w.begin_object();
  w.key("schema").string("mozaiek.chain/v1");
  w.key("event_id").string(event_id);
  w.key("type").string(type);
  w.key("at").timestamp(at_ms);
  w.key("reported_at").timestamp(reported_ms);
  w.key("org").string(org);
}

bool has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::vector<std::string> registration_log_2018(std::uint64_t seed, EventTime start) {
  Rng rng(seed ^ 0x7265676973747279ULL);
  std::vector<std::string> out;
  const std::int64_t year_start = to_ms(*parse_rfc3339("2018-01-01T00:00:00Z"));
  const std::int64_t report_start = to_ms(start);
  std::size_t n = 0;
  auto add = [&](std::size_t person, const char* reporter, const char* form) {
    PersonRef p;
    p.scheme = "comensha";
    p.id = "CM2018-" + std::to_string(100000 + person);
    p.age_group = person % 7 == 0 ? "minor" : "adult";
    p.nationality = kNationalities[(person * 7 + 3) % std::size(kNationalities)];
    std::string json;
    JsonWriter w(json);
    const std::int64_t at = year_start + static_cast<std::int64_t>(rng.uniform() * 364.0 * kDayMs);
    head(w, "reg-2018-" + std::to_string(n), "victim.registered", at,
         report_start + static_cast<std::int64_t>(n) * 60'000, "comensha");
    w.key("registry").string("comensha");
    w.key("reporter").string(reporter);
    w.key("forms").begin_array().string(form).end_array();
    w.key("subjects").begin_array();
    write_person(w, p);
    w.end_array();
    w.end_object();
    out.push_back(std::move(json));
    ++n;
  };
  // 74 persons reported only by KMar, only for sexual exploitation: in the
  // registry's count (742), not in the NRM's (668).
  for (std::size_t person = 0; person < 74; ++person) add(person, "kmar", "sexual");
  // 764 more reports of the other 668 persons: one each, the 96 left over as
  // second reports by another organisation. The remaining 12 KMar reports
  // are for labour exploitation, so those persons count under both rules.
  struct Block {
    const char* reporter;
    std::size_t reports;
  };
  const Block blocks[] = {
      {"police", 530}, {"kmar", 12}, {"nla", 75}, {"care_coordinator", 91}, {"other", 56}};
  constexpr const char* kPoliceForms[] = {"sexual", "labour", "criminal"};
  std::size_t i = 0;
  for (const auto& b : blocks) {
    for (std::size_t k = 0; k < b.reports; ++k, ++i) {
      const std::size_t person = 74 + i % 668;
      const char* form = std::string_view(b.reporter) == "police" ? kPoliceForms[i % 3]
                         : std::string_view(b.reporter) == "nla"  ? "labour"
                         : std::string_view(b.reporter) == "kmar" ? "labour"
                                                                  : kPoliceForms[(i / 2) % 3];
      add(person, b.reporter, form);
    }
  }
  return out;
}

// Plans the chain events of one SyntheticChain, step by step. The steps
// share one random stream and one event counter, so they run in a fixed
// order: meldingen, persons, the spike, James, the 2018 log.
class SyntheticChain::Planner {
 public:
  Planner(const ChainTrafficOptions& o, std::vector<Planned>& records)
      : o_(o),
        records_(records),
        rng_(o.seed ^ 0x636861696e2d6576ULL),
        sources_(o.sources.empty() ? default_sources() : o.sources),
        t0_(to_ms(o.start)),
        span_(o.span.count()) {
    for (const auto& l : o.locations) {
      if (l.rfind("coa-", 0) == 0) reception_.push_back(l);
    }
    if (reception_.empty()) {
      reception_ = {"coa-ter-apel", "coa-budel", "coa-gilze", "coa-utrecht"};
    }
    coa_ = has(sources_, "coa") ? "coa" : sources_.front();
    nidos_ = has(sources_, "nidos") ? "nidos" : coa_;
    police_ = has(sources_, "police") ? "police" : coa_;
  }

  void meldingen();
  void persons();
  // Returns the protected shelter the minors leave.
  std::string spike();
  void james();
  void registrations_2018();

 private:
  void emit(std::string key, std::int64_t reported, std::string json) {
    records_.push_back(Planned{reported, std::move(key), std::move(json)});
  }
  std::string event_id(const char* prefix) { return std::string(prefix) + std::to_string(seq_++); }
  // One of the preferred organisations present among the sources, else any source.
  std::string org(std::initializer_list<const char*> preferred);
  void melding(std::size_t i);
  void melding_event(const std::string& id, const char* type, std::int64_t at,
                     const std::string& by, const std::string& other, const char* outcome,
                     bool twice);
  void person(std::size_t i);
  void person_event(const char* type, std::int64_t at, const std::string& by, const PersonRef& p,
                    const std::string& location, const char* extra_key,
                    const std::string& extra_value, std::int64_t reporting_delay);

  const ChainTrafficOptions& o_;
  std::vector<Planned>& records_;
  Rng rng_;
  const std::vector<std::string>& sources_;
  std::vector<std::string> reception_;
  const std::int64_t t0_;
  const std::int64_t span_;
  std::size_t seq_ = 0;
  std::string coa_, nidos_, police_;
};

std::string SyntheticChain::Planner::org(std::initializer_list<const char*> preferred) {
  std::vector<std::string> candidates;
  for (const char* p : preferred) {
    if (has(sources_, p)) candidates.emplace_back(p);
  }
  if (candidates.empty()) return sources_[rng_.below(sources_.size())];
  return candidates[rng_.below(candidates.size())];
}

void SyntheticChain::Planner::meldingen() {
  for (std::size_t i = 0; i < o_.meldingen; ++i) melding(i);
}

// One melding: sent, mostly acknowledged, sometimes answered with feedback.
void SyntheticChain::Planner::melding(std::size_t i) {
  const std::string id = "mld-" + std::to_string(o_.seed % 1000) + "-" + std::to_string(i);
  std::string from = org(
      {"coa", "nidos", "ind", "municipality", "care_coordinator", "fairwork", "kmar"});
  std::string to = org({"police", "avim", "veilig_thuis", "ind", "nla"});
  if (to == from) to = sources_[(rng_.below(sources_.size()) + 1) % sources_.size()];
  // Half in the first weeks, so answered and unanswered ones show early in the demo.
  const double where = i % 2 == 0 ? rng_.uniform() * 0.15 : rng_.uniform();
  const std::int64_t sent = t0_ + static_cast<std::int64_t>(where * static_cast<double>(span_));
  melding_event(id, "melding.sent", sent, from, to, nullptr, rng_.chance(0.03));
  const bool ack = rng_.chance(0.8);
  if (ack) {
    const double hours = rng_.log_uniform(1, 240);  // an hour .. ten days
    melding_event(id, "melding.acknowledged", sent + static_cast<std::int64_t>(hours * kHourMs), to,
                  from, nullptr, rng_.chance(0.03));
  }
  if (rng_.chance(ack ? 0.45 : 0.3)) {  // feedback, sometimes without an ack
    const double days_late = rng_.log_uniform(5, 170);
    constexpr const char* kOutcomes[] = {"investigation_started", "no_grounds", "referred_to_care",
                                         "arrest", "insufficient_evidence"};
    melding_event(id, "melding.feedback", sent + static_cast<std::int64_t>(days_late * kDayMs), to,
                  from, kOutcomes[rng_.below(std::size(kOutcomes))], false);
  }
}

void SyntheticChain::Planner::melding_event(const std::string& id, const char* type,
                                            std::int64_t at, const std::string& by,
                                            const std::string& other, const char* outcome,
                                            bool twice) {
  const std::string eid = event_id("evt-m");
  const std::int64_t reported = at + static_cast<std::int64_t>(rng_.uniform() * 6 * kHourMs);
  std::string json;
  JsonWriter w(json);
  head(w, eid, type, at, reported, by);
  w.key("melding_id").string(id);
  w.key("to").string(other);
  if (outcome != nullptr) w.key("outcome").string(outcome);
  w.end_object();
  if (twice) emit(id, reported + kHourMs, json);  // redelivered: same event id
  emit(id, reported, std::move(json));
}

void SyntheticChain::Planner::person_event(const char* type, std::int64_t at, const std::string& by,
                                           const PersonRef& p, const std::string& location,
                                           const char* extra_key, const std::string& extra_value,
                                           std::int64_t reporting_delay) {
  const std::string eid = event_id("evt-p");
  const std::int64_t reported = at + reporting_delay;
  std::string json;
  JsonWriter w(json);
  head(w, eid, type, at, reported, by);
  if (extra_key != nullptr) w.key(extra_key).string(extra_value);
  w.key("subjects").begin_array();
  write_person(w, p);
  if (!location.empty()) write_location(w, location);
  w.end_array();
  w.end_object();
  emit(eid, reported, std::move(json));
}

void SyntheticChain::Planner::persons() {
  for (std::size_t i = 0; i < o_.persons; ++i) person(i);
}

// One person: arrival, maybe a transfer, maybe MOB, maybe a re-appearance.
void SyntheticChain::Planner::person(std::size_t i) {
  constexpr const char* kWhere[] = {"police", "location", "eurodac", "abroad"};
  PersonRef p;
  p.id = "V" + std::to_string(o_.seed % 1000) + std::to_string(700000 + i);
  const bool minor = rng_.chance(0.35);
  p.age_group = minor ? "minor" : "adult";
  p.nationality = kNationalities[rng_.below(std::size(kNationalities))];
  std::string site = reception_[rng_.below(reception_.size())];
  const std::int64_t arrived = t0_ + static_cast<std::int64_t>(rng_.uniform() * 0.8 *
                                                               static_cast<double>(span_));
  const bool on_record = !rng_.chance(0.05);
  const auto delay = static_cast<std::int64_t>(rng_.log_uniform(1, 72) * kHourMs);
  if (on_record) person_event("person.arrived", arrived, coa_, p, site, nullptr, "", delay);
  std::int64_t now = arrived;
  if (rng_.chance(0.15) && reception_.size() > 1) {
    now += static_cast<std::int64_t>(rng_.log_uniform(5, 40) * kDayMs);
    std::string next = reception_[rng_.below(reception_.size())];
    if (next == site) {
      next = reception_[(rng_.below(reception_.size() - 1) + 1) % reception_.size()];
    }
    site = next;
    person_event("person.transferred", now, coa_, p, "", "to_location", site, delay);
  }
  if (!rng_.chance(minor ? 0.3 : 0.12)) return;
  now += static_cast<std::int64_t>(rng_.log_uniform(1, 90) * kDayMs);
  person_event("person.departed_unknown", now, minor ? nidos_ : coa_, p, site, nullptr, "", delay);
  if (!rng_.chance(0.25)) return;
  now += static_cast<std::int64_t>(rng_.log_uniform(3, 60) * kDayMs);
  person_event("person.reappeared", now, police_, p, "", "where",
               kWhere[rng_.below(std::size(kWhere))], delay);
}

// The planted spike: Vietnamese minors leave the protected shelter.
std::string SyntheticChain::Planner::spike() {
  std::string location = reception_.back();
  for (const auto& l : reception_) {
    if (l.find("beschermd") != std::string::npos || l.find("protected") != std::string::npos) {
      location = l;
    }
  }
  const std::int64_t spike_day = t0_ + 40 * kDayMs;
  for (std::size_t i = 0; i < 8; ++i) {
    PersonRef p;
    p.id = "V" + std::to_string(o_.seed % 1000) + std::to_string(900000 + i);
    p.age_group = "minor";
    p.nationality = "VN";
    const std::int64_t arrived = spike_day - static_cast<std::int64_t>((12 + i) * kDayMs);
    person_event("person.arrived", arrived, coa_, p, location, nullptr, "", 2 * kHourMs);
    const std::int64_t left = spike_day + static_cast<std::int64_t>(i) * 6 * kHourMs;
    person_event("person.departed_unknown", left, nidos_, p, location, nullptr, "", 3 * kHourMs);
  }
  return location;
}

// James leaves MOB after his signals converged (day 84 in the signals).
void SyntheticChain::Planner::james() {
  for (const auto& c : o_.planted) {
    if (c.name != "james" || c.subject_type != "person") continue;
    const auto colon = c.raw_subject.find(':');
    if (colon == std::string::npos) continue;
    PersonRef p;
    p.scheme = c.raw_subject.substr(0, colon);
    p.id = c.raw_subject.substr(colon + 1);
    p.age_group = "minor";
    p.nationality = "SD";
    std::string site = reception_.back();
    for (const auto& l : reception_) {
      if (l.find("ter-apel") == std::string::npos && l.find("beschermd") == std::string::npos &&
          l.find("protected") == std::string::npos) {
        site = l;
      }
    }
    person_event("person.arrived", t0_ + 10 * kDayMs, coa_, p, site, nullptr, "", 4 * kHourMs);
    person_event("person.departed_unknown", t0_ + 84 * kDayMs + 21 * kHourMs, nidos_, p, site,
                 nullptr, "", 14 * kHourMs);
    person_event("person.reappeared", t0_ + 86 * kDayMs + 9 * kHourMs, police_, p, "", "where",
                 "police", 2 * kHourMs);
    // Taken off the bus, he is registered as a presumed victim (police report).
    const std::string eid = event_id("evt-r");
    const std::int64_t at = t0_ + 87 * kDayMs;
    std::string json;
    JsonWriter w(json);
    head(w, eid, "victim.registered", at, at + kDayMs, "comensha");
    w.key("registry").string("comensha");
    w.key("reporter").string(police_);
    w.key("forms").begin_array().string("criminal").end_array();
    w.key("subjects").begin_array();
    write_person(w, p);
    w.end_array();
    w.end_object();
    emit(eid, at + kDayMs, std::move(json));
  }
}

// The 2018 registry log, backfilled in the first minutes.
void SyntheticChain::Planner::registrations_2018() {
  auto log = registration_log_2018(o_.seed, o_.start);
  for (std::size_t i = 0; i < log.size(); ++i) {
    emit("reg-" + std::to_string(i), t0_ + static_cast<std::int64_t>(i) * 60'000,
         std::move(log[i]));
  }
}

SyntheticChain::SyntheticChain(const ChainTrafficOptions& o) : topic_(o.topic) {
  Planner plan(o, records_);
  plan.meldingen();
  plan.persons();
  spike_location_ = plan.spike();
  plan.james();
  if (o.registrations_2018) plan.registrations_2018();
  std::stable_sort(records_.begin(), records_.end(), [](const Planned& a, const Planned& b) {
    return a.reported_ms < b.reported_ms;
  });
}

bool SyntheticChain::next(OutRecord& out) {
  if (next_ >= records_.size()) return false;
  const Planned& p = records_[next_++];
  out.topic.assign(topic_);
  out.key.assign(p.key);
  out.value.assign(p.json);
  return true;
}

EventTime SyntheticChain::next_reported_at() const {
  return next_ < records_.size() ? event_time_from_ms(records_[next_].reported_ms) : kMaxEventTime;
}

}  // namespace mozaiek

namespace mozaiek {

PartnerTraffic::PartnerTraffic(const TrafficOptions& signals, const Catalogue& catalogue,
                               ChainTrafficOptions chain, bool with_chain)
    : signals_(signals, catalogue) {
  if (with_chain) {
    chain.planted = signals_.planted();
    chain_ = std::make_unique<SyntheticChain>(std::move(chain));
  }
  have_pending_ = signals_.next(pending_);
  pending_at_ = have_pending_ ? signals_.last_reported_at() : kMaxEventTime;
}

bool PartnerTraffic::next(OutRecord& out) {
  const EventTime chain_at = chain_ ? chain_->next_reported_at() : kMaxEventTime;
  if (have_pending_ && pending_at_ <= chain_at) {
    std::swap(out, pending_);
    have_pending_ = signals_.next(pending_);
    pending_at_ = have_pending_ ? signals_.last_reported_at() : kMaxEventTime;
    return true;
  }
  return chain_ && chain_->next(out);
}

}  // namespace mozaiek
