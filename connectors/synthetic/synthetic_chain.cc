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
  static const std::vector<std::string> s{"coa",   "nidos", "ind",          "avim",
                                          "kmar",  "police", "nla",         "fairwork",
                                          "municipality", "care_coordinator", "veilig_thuis"};
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
  const Block blocks[] = {{"police", 530}, {"kmar", 12}, {"nla", 75},
                          {"care_coordinator", 91}, {"other", 56}};
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

SyntheticChain::SyntheticChain(ChainTrafficOptions o) : topic_(o.topic) {
  Rng rng(o.seed ^ 0x636861696e2d6576ULL);
  const auto& sources = o.sources.empty() ? default_sources() : o.sources;
  std::vector<std::string> reception;
  for (const auto& l : o.locations) {
    if (l.rfind("coa-", 0) == 0) reception.push_back(l);
  }
  if (reception.empty()) reception = {"coa-ter-apel", "coa-budel", "coa-gilze", "coa-utrecht"};
  const std::int64_t t0 = to_ms(o.start);
  const std::int64_t span = o.span.count();
  std::size_t seq = 0;
  auto emit = [&](std::string key, std::int64_t reported, std::string json) {
    records_.push_back(Planned{reported, std::move(key), std::move(json)});
  };
  auto event_id = [&](const char* prefix) { return std::string(prefix) + std::to_string(seq++); };

  // ---- meldingen ----
  auto org = [&](std::initializer_list<const char*> preferred) {
    std::vector<std::string> candidates;
    for (const char* p : preferred) {
      if (has(sources, p)) candidates.emplace_back(p);
    }
    if (candidates.empty()) return sources[rng.below(sources.size())];
    return candidates[rng.below(candidates.size())];
  };
  for (std::size_t i = 0; i < o.meldingen; ++i) {
    const std::string id = "mld-" + std::to_string(o.seed % 1000) + "-" + std::to_string(i);
    std::string from = org({"coa", "nidos", "ind", "municipality", "care_coordinator", "fairwork",
                            "kmar"});
    std::string to = org({"police", "avim", "veilig_thuis", "ind", "nla"});
    if (to == from) to = sources[(rng.below(sources.size()) + 1) % sources.size()];
    // Half in the first weeks, so answered and unanswered ones show early in the demo.
    const double where = i % 2 == 0 ? rng.uniform() * 0.15 : rng.uniform();
    const std::int64_t sent = t0 + static_cast<std::int64_t>(where * static_cast<double>(span));
    auto melding_event = [&](const char* type, std::int64_t at, const std::string& by,
                             const std::string& other, const char* outcome, bool twice) {
      const std::string eid = event_id("evt-m");
      const std::int64_t reported = at + static_cast<std::int64_t>(rng.uniform() * 6 * kHourMs);
      std::string json;
      JsonWriter w(json);
      head(w, eid, type, at, reported, by);
      w.key("melding_id").string(id);
      w.key("to").string(other);
      if (outcome != nullptr) w.key("outcome").string(outcome);
      w.end_object();
      if (twice) emit(id, reported + kHourMs, json);  // redelivered: same event id
      emit(id, reported, std::move(json));
    };
    melding_event("melding.sent", sent, from, to, nullptr, rng.chance(0.03));
    const bool ack = rng.chance(0.8);
    if (ack) {
      const double hours = rng.log_uniform(1, 240);  // an hour .. ten days
      melding_event("melding.acknowledged", sent + static_cast<std::int64_t>(hours * kHourMs), to,
                    from, nullptr, rng.chance(0.03));
    }
    if (rng.chance(ack ? 0.45 : 0.3)) {  // feedback, sometimes without an ack
      const double days_late = rng.log_uniform(5, 170);
      constexpr const char* kOutcomes[] = {"investigation_started", "no_grounds",
                                           "referred_to_care", "arrest", "insufficient_evidence"};
      melding_event("melding.feedback", sent + static_cast<std::int64_t>(days_late * kDayMs), to,
                    from, kOutcomes[rng.below(std::size(kOutcomes))], false);
    }
  }

  // ---- persons: arrival, transfer, MOB, re-appearance ----
  auto person_event = [&](const char* type, std::int64_t at, const std::string& by,
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
  };
  const std::string coa = has(sources, "coa") ? "coa" : sources.front();
  const std::string nidos = has(sources, "nidos") ? "nidos" : coa;
  const std::string police = has(sources, "police") ? "police" : coa;
  constexpr const char* kWhere[] = {"police", "location", "eurodac", "abroad"};
  for (std::size_t i = 0; i < o.persons; ++i) {
    PersonRef p;
    p.id = "V" + std::to_string(o.seed % 1000) + std::to_string(700000 + i);
    const bool minor = rng.chance(0.35);
    p.age_group = minor ? "minor" : "adult";
    p.nationality = kNationalities[rng.below(std::size(kNationalities))];
    std::string site = reception[rng.below(reception.size())];
    const std::int64_t arrived =
        t0 + static_cast<std::int64_t>(rng.uniform() * 0.8 * static_cast<double>(span));
    const bool on_record = !rng.chance(0.05);
    const std::int64_t delay = static_cast<std::int64_t>(rng.log_uniform(1, 72) * kHourMs);
    if (on_record) person_event("person.arrived", arrived, coa, p, site, nullptr, "", delay);
    std::int64_t now = arrived;
    if (rng.chance(0.15) && reception.size() > 1) {
      now += static_cast<std::int64_t>(rng.log_uniform(5, 40) * kDayMs);
      std::string next = reception[rng.below(reception.size())];
      if (next == site) next = reception[(rng.below(reception.size() - 1) + 1) % reception.size()];
      site = next;
      person_event("person.transferred", now, coa, p, "", "to_location", site, delay);
    }
    if (!rng.chance(minor ? 0.3 : 0.12)) continue;
    now += static_cast<std::int64_t>(rng.log_uniform(1, 90) * kDayMs);
    person_event("person.departed_unknown", now, minor ? nidos : coa, p, site, nullptr, "",
                 delay);
    if (!rng.chance(0.25)) continue;
    now += static_cast<std::int64_t>(rng.log_uniform(3, 60) * kDayMs);
    person_event("person.reappeared", now, police, p, "", "where",
                 kWhere[rng.below(std::size(kWhere))], delay);
  }

  // ---- the planted spike: Vietnamese minors leave the protected shelter ----
  spike_location_ = reception.back();
  for (const auto& l : reception) {
    if (l.find("beschermd") != std::string::npos || l.find("protected") != std::string::npos) {
      spike_location_ = l;
    }
  }
  const std::int64_t spike_day = t0 + 40 * kDayMs;
  for (std::size_t i = 0; i < 8; ++i) {
    PersonRef p;
    p.id = "V" + std::to_string(o.seed % 1000) + std::to_string(900000 + i);
    p.age_group = "minor";
    p.nationality = "VN";
    const std::int64_t arrived = spike_day - static_cast<std::int64_t>((12 + i) * kDayMs);
    person_event("person.arrived", arrived, coa, p, spike_location_, nullptr, "", 2 * kHourMs);
    const std::int64_t left = spike_day + static_cast<std::int64_t>(i) * 6 * kHourMs;
    person_event("person.departed_unknown", left, nidos, p, spike_location_, nullptr, "",
                 3 * kHourMs);
  }

  // ---- James leaves MOB after his signals converged (day 84 in the signals) ----
  for (const auto& c : o.planted) {
    if (c.name != "james" || c.subject_type != "person") continue;
    const auto colon = c.raw_subject.find(':');
    if (colon == std::string::npos) continue;
    PersonRef p;
    p.scheme = c.raw_subject.substr(0, colon);
    p.id = c.raw_subject.substr(colon + 1);
    p.age_group = "minor";
    p.nationality = "SD";
    std::string site = reception.back();
    for (const auto& l : reception) {
      if (l.find("ter-apel") == std::string::npos && l.find("beschermd") == std::string::npos &&
          l.find("protected") == std::string::npos) {
        site = l;
      }
    }
    person_event("person.arrived", t0 + 10 * kDayMs, coa, p, site, nullptr, "", 4 * kHourMs);
    person_event("person.departed_unknown", t0 + 84 * kDayMs + 21 * kHourMs, nidos, p, site,
                 nullptr, "", 14 * kHourMs);
    person_event("person.reappeared", t0 + 86 * kDayMs + 9 * kHourMs, police, p, "", "where",
                 "police", 2 * kHourMs);
    // Taken off the bus, he is registered as a presumed victim (police report).
    const std::string eid = event_id("evt-r");
    const std::int64_t at = t0 + 87 * kDayMs;
    std::string json;
    JsonWriter w(json);
    head(w, eid, "victim.registered", at, at + kDayMs, "comensha");
    w.key("registry").string("comensha");
    w.key("reporter").string(police);
    w.key("forms").begin_array().string("criminal").end_array();
    w.key("subjects").begin_array();
    write_person(w, p);
    w.end_array();
    w.end_object();
    emit(eid, at + kDayMs, std::move(json));
  }

  // ---- the 2018 registry log, backfilled in the first minutes ----
  if (o.registrations_2018) {
    auto log = registration_log_2018(o.seed, o.start);
    for (std::size_t i = 0; i < log.size(); ++i) {
      emit("reg-" + std::to_string(i), t0 + static_cast<std::int64_t>(i) * 60'000,
           std::move(log[i]));
    }
  }

  std::stable_sort(records_.begin(), records_.end(),
                   [](const Planned& a, const Planned& b) { return a.reported_ms < b.reported_ms; });
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
  return next_ < records_.size() ? event_time_from_ms(records_[next_].reported_ms)
                                 : kMaxEventTime;
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
