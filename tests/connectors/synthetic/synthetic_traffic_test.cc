#include "connectors/synthetic/synthetic_traffic.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mozaiek {
namespace {

constexpr std::uint8_t P = 1, V = 2, L = 4;

// The shipped catalogue (../shared/domain/indicators.yaml): codes, default
// strength and allowed subject types are what the generator depends on.
Catalogue shipped_catalogue() {
  struct Row {
    const char* code;
    std::uint8_t mask;
    bool concrete;
    std::uint8_t forms;
  };
  static constexpr Row kRows[] = {
      {"behaviour_change", P, false, kFormSexual | kFormCriminal | kFormLabour},
      {"weight_loss_or_neglect", P, false, 0},
      {"fear_or_distress", P, false, 0},
      {"unexplained_pain", P, false, kFormSexual},
      {"substance_use_self_harm", P, false, 0},
      {"often_absent", P | L, false, 0},
      {"fixed_time_appointments", P | L, false, 0},
      {"outside_contacts", P, false, 0},
      {"many_foreign_calls", P, false, 0},
      {"unexplained_money", P, false, kFormCriminal | kFormSexual},
      {"expensive_possessions", P, false, kFormCriminal | kFormSexual},
      {"multiple_phones", P, false, kFormCriminal},
      {"carries_goods_for_others", P, false, kFormCriminal},
      {"intends_onward_travel", P, false, 0},
      {"too_good_promise", P, false, 0},
      {"denies_but_knows_others", P, false, 0},
      {"route_captivity", P, true, 0},
      {"route_forced_work", P, true, kFormLabour},
      {"route_forced_sex", P, true, kFormSexual},
      {"debt_to_smuggler", P, false, 0},
      {"documents_held_by_other", P | V, true, 0},
      {"fear_of_reprisal", P, false, 0},
      {"self_identifies_victim", P, true, 0},
      {"underpaid_work", P | L, true, kFormLabour},
      {"no_contract", P | L, false, kFormLabour},
      {"sleeps_at_workplace", P | L, true, kFormLabour},
      {"long_working_hours", P, false, kFormLabour},
      {"recruited_near_reception", P | L | V, true, 0},
      {"visitor_vehicle", V | L | P, false, 0},
      {"pickup_van", V | L | P, false, kFormLabour},
      {"foreign_plate_recurring", V | L, false, 0},
      {"transports_persons_with_documents", V | P, true, kFormSexual},
      {"overcrowded_address", L, false, kFormLabour},
      {"business_without_customers", L, false, kFormCriminal | kFormLabour},
      {"living_signs_at_workplace", L, false, kFormLabour},
      {"unlicensed_sex_work", L | P, false, kFormSexual},
      {"suspect_online_ad", P | L, false, kFormSexual},
      {"persons_moved_between_sites", P | L, false, 0},
      {"worrying_departure", P | L, true, 0},
      {"missed_appointments", P, false, 0}};
  Catalogue c;
  for (const Row& r : kRows) {
    c.add({r.code, r.concrete ? Strength::concrete : Strength::soft, 1.0, r.mask, r.forms});
  }
  return c;
}

const std::vector<std::string> kSources = {
    "coa",          "nidos", "ind",      "avim",         "kmar",
    "police",       "nla",   "fairwork", "municipality", "care_coordinator",
    "veilig_thuis", "riec"};
// As in config/mozaiek.yaml (metrics.locations).
const std::vector<std::string> kLocations = {
    "coa-ter-apel",  "coa-budel",     "coa-gilze",     "coa-zevenaar",          "coa-den-helder",
    "coa-utrecht",   "coa-amsterdam", "coa-grave",     "coa-beschermde-opvang", "nidos-amsterdam",
    "nidos-utrecht", "nidos-zwolle",  "kmar-schiphol", "avim-ter-apel"};

TrafficOptions options(std::uint64_t seed, std::size_t signals) {
  TrafficOptions o;
  o.seed = seed;
  o.signals = signals;
  o.sources = kSources;
  o.locations = kLocations;
  return o;
}

struct Emitted {
  OutRecord record;
  EventTime reported;  // last_reported_at() after next()
};

std::vector<Emitted> drain(SyntheticTraffic& traffic) {
  std::vector<Emitted> out;
  OutRecord r;
  while (traffic.next(r)) out.push_back({r, traffic.last_reported_at()});
  return out;
}

// A record the intake would accept, or why not.
struct Parsed {
  bool well_formed = false;
  std::string signal_id, source, indicator;
  EventTime observed{}, reported{};
  std::vector<std::string> subject_types;
  std::vector<std::string> subject_ids;  // "<scheme>:<id>", plate or location id
};

Parsed parse(const std::string& json, const Catalogue& catalogue) {
  Parsed p;
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return p;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return p;
  std::string_view schema, id, source, observed, reported, indicator;
  if (obj["schema"].get_string().get(schema) || obj["signal_id"].get_string().get(id) ||
      obj["source"].get_string().get(source) || obj["observed_at"].get_string().get(observed) ||
      obj["reported_at"].get_string().get(reported) ||
      obj["indicator"].get_string().get(indicator)) {
    return p;
  }
  simdjson::ondemand::array subjects;
  if (obj["subjects"].get_array().get(subjects)) return p;
  for (auto element : subjects) {
    simdjson::ondemand::object s;
    std::string_view type, text;
    if (element.get_object().get(s) || s["type"].get_string().get(type)) return p;
    p.subject_types.emplace_back(type);
    if (type == "person") {
      std::string_view scheme;
      if (s["id"].get_string().get(text) || s["id_scheme"].get_string().get(scheme)) return p;
      p.subject_ids.push_back(std::string(scheme) + ":" + std::string(text));
    } else if (type == "vehicle") {
      if (s["plate"].get_string().get(text)) return p;
      p.subject_ids.emplace_back(text);
    } else {
      if (s["id"].get_string().get(text)) return p;
      p.subject_ids.emplace_back(text);
    }
  }
  auto o = parse_rfc3339(observed);
  auto r = parse_rfc3339(reported);
  auto ind = catalogue.find(indicator);
  p.signal_id = id;
  p.source = source;
  p.indicator = indicator;
  if (schema != "mozaiek.signal/v1" || !o || !r || !ind || p.subject_types.empty()) return p;
  for (const auto& t : p.subject_types) {
    auto st = subject_type_from(t);
    if (!st || (catalogue.at(*ind).subjects_mask & (1u << static_cast<unsigned>(*st))) == 0) {
      return p;
    }
  }
  p.observed = *o;
  p.reported = *r;
  p.well_formed = true;
  return p;
}

// Plates are spelled with and without separators; the intake normalises them.
bool same_subject(std::string a, std::string b) {
  std::erase_if(a, [](char c) { return c == ' ' || c == '-'; });
  std::erase_if(b, [](char c) { return c == ' ' || c == '-'; });
  return a == b;
}

class SyntheticTrafficTest : public ::testing::Test {
 protected:
  Catalogue catalogue_ = shipped_catalogue();
};

TEST_F(SyntheticTrafficTest, SameSeedGivesIdenticalOutput) {
  SyntheticTraffic a(options(7, 3000), catalogue_);
  SyntheticTraffic b(options(7, 3000), catalogue_);
  auto ra = drain(a);
  auto rb = drain(b);
  ASSERT_EQ(ra.size(), rb.size());
  for (std::size_t i = 0; i < ra.size(); ++i) {
    ASSERT_EQ(ra[i].record.topic, rb[i].record.topic) << i;
    ASSERT_EQ(ra[i].record.key, rb[i].record.key) << i;
    ASSERT_EQ(ra[i].record.value, rb[i].record.value) << i;
  }
  EXPECT_EQ(a.generated(), ra.size());
  EXPECT_EQ(a.total(), ra.size());
}

// FNV-1a over topic, key and value of every record: pins the exact bytes, so
// reorganising the generator cannot change the traffic unnoticed. A deliberate
// change to the traffic changes this number.
std::uint64_t digest(SyntheticTraffic& traffic) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  const auto eat = [&h](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    h = (h ^ 0xff) * 0x100000001b3ULL;  // field separator
  };
  OutRecord r;
  while (traffic.next(r)) {
    eat(r.topic);
    eat(r.key);
    eat(r.value);
  }
  return h;
}

TEST_F(SyntheticTrafficTest, TrafficBytesArePinnedForAGivenSeed) {
  SyntheticTraffic with_cases(options(11, 3000), catalogue_);
  auto o = options(11, 3000);
  o.plant_cases = false;
  SyntheticTraffic noise_only(o, catalogue_);
  EXPECT_EQ(with_cases.total(), 3020u);  // 20 planted signals on top of the noise
  EXPECT_EQ(digest(with_cases), 0xe302e2811d72ead2ULL);
  EXPECT_EQ(digest(noise_only), 0x5fd89e1296c68f5cULL);
}

TEST_F(SyntheticTrafficTest, DifferentSeedGivesDifferentOutput) {
  SyntheticTraffic a(options(7, 2000), catalogue_);
  SyntheticTraffic b(options(8, 2000), catalogue_);
  auto ra = drain(a);
  auto rb = drain(b);
  std::size_t same = 0;
  for (std::size_t i = 0; i < std::min(ra.size(), rb.size()); ++i) {
    same += ra[i].record.value == rb[i].record.value;
  }
  EXPECT_LT(same, ra.size() / 100);
}

TEST_F(SyntheticTrafficTest, WellFormedRecordsAreSignalV1OnKnownTopicsInReportingOrder) {
  SyntheticTraffic traffic(options(42, 20000), catalogue_);
  auto records = drain(traffic);
  ASSERT_GE(records.size(), 20000u);
  std::set<std::string> topics;
  for (const auto& s : kSources) topics.insert("signals." + s);
  std::set<std::string> keys;
  std::size_t malformed = 0;
  EventTime previous = kMinEventTime;
  for (const auto& e : records) {
    ASSERT_TRUE(topics.count(e.record.topic)) << e.record.topic;
    EXPECT_TRUE(keys.insert(e.record.key).second) << "duplicate signal id " << e.record.key;
    EXPECT_GE(e.reported, previous) << e.record.key;
    previous = e.reported;
    Parsed p = parse(e.record.value, catalogue_);
    if (!p.well_formed) {
      ++malformed;
      continue;
    }
    EXPECT_EQ(p.signal_id, e.record.key);
    EXPECT_EQ("signals." + p.source, e.record.topic);
    EXPECT_EQ(p.signal_id.rfind(p.source + "-", 0), 0u) << p.signal_id;
    EXPECT_GE(p.reported, p.observed) << e.record.value;
    EXPECT_EQ(p.reported, e.reported) << e.record.value;
  }
  EXPECT_EQ(malformed, traffic.malformed());
  const double share = static_cast<double>(malformed) / static_cast<double>(records.size());
  EXPECT_NEAR(share, 0.002, 0.0005);
}

TEST_F(SyntheticTrafficTest, MalformedShareFollowsTheOption) {
  auto o = options(3, 10000);
  o.malformed_share = 0.05;
  o.plant_cases = false;
  SyntheticTraffic traffic(o, catalogue_);
  std::size_t malformed = 0;
  std::set<std::string> kinds;
  for (const auto& e : drain(traffic)) {
    Parsed p = parse(e.record.value, catalogue_);
    if (p.well_formed) continue;
    ++malformed;
    if (p.signal_id.empty()) kinds.insert("truncated");
    else if (!catalogue_.find(p.indicator)) kinds.insert("unknown_indicator");
    else if (p.subject_types.empty()) kinds.insert("no_subjects");
    else kinds.insert("bad_timestamp");
  }
  EXPECT_NEAR(static_cast<double>(malformed), 500.0, 2.0);
  EXPECT_EQ(kinds.size(), 4u);
}

TEST_F(SyntheticTrafficTest, CoaReportsInTwoWeeklyBatches) {
  TrafficOptions o = options(11, 20000);
  SyntheticTraffic traffic(o, catalogue_);
  std::set<std::int64_t> batch_days;
  std::size_t coa = 0;
  for (const auto& e : drain(traffic)) {
    if (e.record.topic != "signals.coa") continue;
    ++coa;
    const std::int64_t day = (to_ms(e.reported) - to_ms(o.start)) / days(1).count();
    EXPECT_EQ(day % 14, 0) << e.record.value;
    batch_days.insert(day);
  }
  EXPECT_GT(coa, 1000u);
  // 120 days of observations -> the batches of days 14, 28, ..., 126.
  EXPECT_EQ(batch_days.size(), 9u);
}

TEST_F(SyntheticTrafficTest, PlantedCasesAppearAndJamesConvergesBeforeHeLeaves) {
  SyntheticTraffic traffic(options(42, 5000), catalogue_);
  const auto& planted = traffic.planted();
  ASSERT_EQ(planted.size(), 3u);
  std::map<std::string, Parsed> by_id;
  for (const auto& e : drain(traffic)) by_id[e.record.key] = parse(e.record.value, catalogue_);

  for (const auto& c : planted) {
    ASSERT_FALSE(c.signal_ids.empty()) << c.name;
    std::set<std::string> sources;
    std::size_t naming = 0;  // the rest of a case's signals name a linked subject
    for (const auto& id : c.signal_ids) {
      ASSERT_TRUE(by_id.count(id)) << c.name << " " << id;
      const Parsed& p = by_id[id];
      ASSERT_TRUE(p.well_formed) << id;
      sources.insert(p.source);
      for (const auto& subject : p.subject_ids) naming += same_subject(subject, c.raw_subject);
    }
    EXPECT_GE(sources.size(), 2u) << c.name;
    EXPECT_GE(naming, 3u) << c.name;
  }

  const PlantedCase& james = planted[0];
  EXPECT_EQ(james.name, "james");
  EXPECT_EQ(james.subject_type, "person");
  const Parsed& departure = by_id[james.signal_ids.back()];
  // He lives at a small site, not the application centre or the protected shelter.
  EXPECT_NE(std::find(departure.subject_ids.begin(), departure.subject_ids.end(), "coa-grave"),
            departure.subject_ids.end());
  EXPECT_EQ(departure.indicator, "worrying_departure");
  std::set<std::string> known_before;  // sources whose pieces arrived well before he left
  for (const auto& id : james.signal_ids) {
    const Parsed& p = by_id[id];
    if (p.reported + days(14) <= departure.observed) known_before.insert(p.source);
  }
  EXPECT_EQ(known_before, (std::set<std::string>{"coa", "nidos"}));

  const PlantedCase& van = planted[1];
  EXPECT_EQ(van.name, "pickup_van");
  EXPECT_EQ(van.country, "PL");
  std::set<std::string> reception;
  for (const auto& id : van.signal_ids) {
    for (const auto& subject : by_id[id].subject_ids) {
      if (subject.rfind("coa-", 0) == 0) reception.insert(subject);
    }
  }
  EXPECT_EQ(reception.size(), 3u);
  EXPECT_EQ(planted[2].name, "hotspot");
  EXPECT_EQ(planted[2].raw_subject.rfind("addr-", 0), 0u);
}

TEST_F(SyntheticTrafficTest, NoPlantedCasesWhenDisabled) {
  auto o = options(42, 1000);
  o.plant_cases = false;
  SyntheticTraffic traffic(o, catalogue_);
  EXPECT_TRUE(traffic.planted().empty());
  EXPECT_EQ(traffic.total(), 1000u);
}

TEST_F(SyntheticTrafficTest, UnknownSourcesAndRestrictedIndicatorsStayWithinTheOptions) {
  TrafficOptions o;
  o.signals = 2000;
  o.sources = {"coa", "shelter_x"};
  o.indicators = {"behaviour_change", "often_absent", "overcrowded_address"};
  SyntheticTraffic traffic(o, catalogue_);
  for (const auto& e : drain(traffic)) {
    Parsed p = parse(e.record.value, catalogue_);
    if (!p.well_formed) continue;
    EXPECT_TRUE(p.source == "coa" || p.source == "shelter_x");
    EXPECT_TRUE(std::find(o.indicators.begin(), o.indicators.end(), p.indicator) !=
                o.indicators.end())
        << p.indicator;
  }
  // Only James's COA behaviour_change signal survives the restriction.
  ASSERT_EQ(traffic.planted().size(), 1u);
  EXPECT_EQ(traffic.planted()[0].name, "james");
}

TEST_F(SyntheticTrafficTest, GenerateRecordsReturnsExactlyN) {
  auto records = generate_records(options(1, 0), catalogue_, 5000);
  ASSERT_EQ(records.size(), 5000u);
  EXPECT_EQ(records.front().topic.rfind("signals.", 0), 0u);
}

}  // namespace
}  // namespace mozaiek
