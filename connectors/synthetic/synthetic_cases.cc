// The three cases SyntheticTraffic plants in the noise, each of which must
// converge: James (the brief's worked case, a minor at a small reception
// site), the pickup van that collects residents at three sites, and the
// address hot-spot. Their signals are planned here with fixed event times
// (days after TrafficOptions::start) and the partners' usual delays.
#include <algorithm>

#include "connectors/synthetic/synthetic_traffic_impl.h"

namespace mozaiek {
using namespace synthetic;
namespace {

struct CaseSubject {
  SubjectType type;
  std::string json;
};

CaseSubject person_subject(const PersonAttrs& a, const char* role) {
  CaseSubject s{SubjectType::person, {}};
  append_person_json(s.json, a, role);
  return s;
}
CaseSubject vehicle_subject(std::string_view plate, std::string_view country) {
  CaseSubject s{SubjectType::vehicle, {}};
  append_vehicle_json(s.json, plate, country);
  return s;
}
CaseSubject location_subject(std::string_view id, const char* kind) {
  CaseSubject s{SubjectType::location, R"({"type":"location","id":")"};
  append_escaped(s.json, id);
  s.json += R"(","kind":")";
  s.json += kind;
  s.json += "\"}";
  return s;
}

// Numbers from 5000 up: noise addresses stay below, so a case's address is its own.
std::string planted_address(std::uint64_t h) {
  std::string id = "addr-";
  id += kMunicipalities[h % std::size(kMunicipalities)];
  id += '-';
  append_uint(id, 5000 + (h >> 8) % 4000, 0);
  return id;
}

std::string person_raw_id(const PersonAttrs& a) {
  std::string s(a.scheme);
  s += ':';
  append_person_id(s, a.scheme, a.id_hash);
  return s;
}

}  // namespace

// Adds the planted signals of the cases to the plan, in case order, from
// one random stream (their report times and salts), so the bytes for a
// seed stay the same.
struct SyntheticTraffic::Impl::CasePlanner {
  explicit CasePlanner(Impl& i)
      : impl(i),
        rng(mix(i.options.seed ^ 0x6361736573ULL)),
        h(mix(i.options.seed ^ 0x706c616e746564ULL)) {}

  std::int64_t at(std::int64_t day, std::int64_t hour, std::int64_t minute) const {
    return to_ms(impl.options.start) + day * kDayMs + hour * kHourMs + minute * 60'000;
  }
  bool allows(const char* code, SubjectType t) const {
    auto id = impl.catalogue.find(code);
    return id && (impl.catalogue.at(*id).subjects_mask & bit(t)) != 0;
  }
  void add(std::size_t case_index, std::string_view source, const char* code, std::int64_t observed,
           const std::vector<CaseSubject>& subjects, std::string unit = {});

  void james();
  void pickup_van();
  void hotspot();

  Impl& impl;
  Rng rng;
  const std::uint64_t h;  // the cases' identities (ids, plates, addresses)
};

// One planted signal; skipped when its source or indicator is not
// configured, and subjects the indicator does not allow are left out.
void SyntheticTraffic::Impl::CasePlanner::add(std::size_t case_index, std::string_view source,
                                              const char* code, std::int64_t observed,
                                              const std::vector<CaseSubject>& subjects,
                                              std::string unit) {
  const TrafficOptions& options = impl.options;
  const Catalogue& catalogue = impl.catalogue;
  auto s = std::find(options.sources.begin(), options.sources.end(), source);
  auto id = catalogue.find(code);
  if (s == options.sources.end() || !id) return;
  const auto& only = options.indicators;
  if (!only.empty() && std::find(only.begin(), only.end(), code) == only.end()) return;
  PlantedSignal ps{case_index, "[", std::move(unit), {}};
  for (const auto& subject : subjects) {
    if ((catalogue.at(*id).subjects_mask & bit(subject.type)) == 0) continue;
    if (ps.subjects.size() > 1) ps.subjects += ',';
    ps.subjects += subject.json;
  }
  if (ps.subjects.size() == 1) return;
  ps.subjects += ']';
  PlannedRecord r{};
  r.source = static_cast<std::uint16_t>(s - options.sources.begin());
  r.observed_ms = observed;
  r.reported_ms = impl.report_time(*impl.profiles[r.source], observed, rng);
  r.salt = rng.next();
  r.indicator = *id;
  r.kind = kPlanted;
  r.aux = static_cast<std::uint32_t>(impl.planted_signals.size());
  impl.planted_signals.push_back(std::move(ps));
  impl.plan.push_back(r);
}

// (1) James (the brief's worked case): a Sudanese minor at a small COA site.
// COA's pieces come in two-weekly batches, Nidos's within days; together
// they converge weeks before he leaves.
void SyntheticTraffic::Impl::CasePlanner::james() {
  const PersonAttrs james{"v-number", mix(h ^ 1), "minor", "SD"};
  std::string site = impl.reception.back();
  // Small-scale: not the application centre or the shelter.
  for (const auto& l : impl.reception) {
    if (l.find("ter-apel") == std::string::npos && l.find("beschermd") == std::string::npos &&
        l.find("protected") == std::string::npos) {
      site = l;
    }
  }
  const std::string french_plate = plate_for("FR", mix(h ^ 2));
  const std::string nidos = impl.nidos_units.empty() ? std::string() : impl.nidos_units.front();
  impl.cases.push_back({"james", "person", person_raw_id(james), "", {}});
  add(0, "coa", "behaviour_change", at(15, 10, 30), {person_subject(james, "resident")}, site);
  add(0, "coa", "weight_loss_or_neglect", at(17, 14, 0), {person_subject(james, "resident")}, site);
  add(0, "coa", "many_foreign_calls", at(24, 11, 15), {person_subject(james, "resident")}, site);
  add(0, "coa", "outside_contacts", at(26, 16, 40), {person_subject(james, "resident")}, site);
  add(0, "coa", "visitor_vehicle", at(33, 19, 5),
      {vehicle_subject(french_plate, "FR"), location_subject(site, "reception"),
       person_subject(james, "passenger")},
      site);
  add(0, "nidos", "unexplained_money", at(36, 15, 0), {person_subject(james, nullptr)}, nidos);
  add(0, "nidos", "fear_or_distress", at(44, 13, 30), {person_subject(james, nullptr)}, nidos);
  add(0, "nidos", "too_good_promise", at(53, 11, 0), {person_subject(james, nullptr)}, nidos);
  add(0, "nidos", "intends_onward_travel", at(81, 14, 20), {person_subject(james, nullptr)}, nidos);
  add(0, "coa", "worrying_departure", at(84, 20, 0),
      {person_subject(james, "resident"), location_subject(site, "reception")}, site);
}

// (2) The pickup van (the Gilze case): one Polish van collects residents at
// three reception sites; the labour inspectorate finds one of them at work.
void SyntheticTraffic::Impl::CasePlanner::pickup_van() {
  const std::string van = plate_for("PL", mix(h ^ 3));
  const std::string& a = impl.reception[1 % impl.reception.size()];
  const std::string& b = impl.reception[2 % impl.reception.size()];
  const std::string& c = impl.reception[0];
  const PersonAttrs r1{"v-number", mix(h ^ 4), "adult", "ER"};
  const PersonAttrs r2{"v-number", mix(h ^ 5), "adult", "SY"};
  const std::string workplace = planted_address(mix(h ^ 6));
  impl.cases.push_back({"pickup_van", "vehicle", van, "PL", {}});
  add(1, "coa", "pickup_van", at(20, 6, 45),
      {vehicle_subject(van, "PL"), location_subject(a, "reception"),
       person_subject(r1, "passenger")},
      a);
  add(1, "coa", "pickup_van", at(27, 6, 30),
      {vehicle_subject(without_separators(van), "PL"), location_subject(b, "reception")}, b);
  add(1, "coa", "pickup_van", at(34, 6, 50),
      {vehicle_subject(van, "PL"), location_subject(c, "reception"),
       person_subject(r2, "passenger")},
      c);
  if (!allows("underpaid_work", SubjectType::vehicle)) {  // the inspector sees the van arrive
    add(1, "nla", "pickup_van", at(38, 7, 0),
        {vehicle_subject(van, "PL"), location_subject(workplace, "workplace"),
         person_subject(r2, "worker")});
  }
  add(1, "nla", "underpaid_work", at(38, 11, 0),
      {person_subject(r2, "worker"), location_subject(workplace, "workplace"),
       vehicle_subject(van, "PL")});
}

// (3) The address hot-spot: an overcrowded address where workers sleep and
// the same Romanian plate keeps coming back.
void SyntheticTraffic::Impl::CasePlanner::hotspot() {
  const std::string address = planted_address(mix(h ^ 8));
  const std::string ro_plate = plate_for("RO", mix(h ^ 10));
  const PersonAttrs w1{"passport", mix(h ^ 11), "adult", "RO"};
  const PersonAttrs w2{"passport", mix(h ^ 12), "adult", "BG"};
  impl.cases.push_back({"hotspot", "location", address, "", {}});
  add(2, "municipality", "overcrowded_address", at(45, 10, 0),
      {location_subject(address, "address")});
  add(2, "nla", "sleeps_at_workplace", at(49, 9, 30),
      {person_subject(w1, "worker"), location_subject(address, "workplace")});
  add(2, "municipality", "foreign_plate_recurring", at(55, 7, 15),
      {vehicle_subject(ro_plate, "RO"), location_subject(address, "address")});
  add(2, "police", "foreign_plate_recurring", at(58, 22, 40),
      {vehicle_subject(without_separators(ro_plate), "RO"), location_subject(address, "address")});
  add(2, "fairwork", "underpaid_work", at(62, 14, 0),
      {person_subject(w2, "worker"), location_subject(address, "workplace")});
}

void SyntheticTraffic::Impl::plan_cases() {
  CasePlanner planner(*this);
  planner.james();
  planner.pickup_van();
  planner.hotspot();
}

}  // namespace mozaiek
