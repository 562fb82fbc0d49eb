// The labelled population: background persons whose signals come by
// coincidence (most from the one organisation that meets them, now and then
// from another), and planted cases whose pieces converge, each shape drawn
// from its own random stream so adding a shape does not move the others.
#include "connectors/synthetic/synthetic_population.h"

#include <algorithm>
#include <array>

#include "connectors/synthetic/synthetic_random.h"
#include "stream/json_writer.h"

namespace mozaiek {
using namespace synthetic;
namespace {

struct PlannedSignal {
  std::int64_t observed_ms = 0;
  std::int64_t reported_ms = 0;
  std::size_t source = 0;  // index into Planner::sources
  IndicatorId indicator = 0;
  std::uint64_t person = 0;  // index of the person
  std::string vehicle;       // plate, or empty
  std::string location;      // reception site named, or empty
};

// How long after observing a source reports (its rhythm; within its
// allowed lateness so nothing is dead-lettered).
std::int64_t reporting_delay(std::string_view source, Millis lateness, Rng& rng) {
  double max_days = 3;
  if (source == "coa") max_days = 14;
  if (source == "ind") max_days = 18;
  if (source == "police" || source == "kmar" || source == "avim") max_days = 1;
  if (source == "riec" || source == "fairwork") max_days = 10;
  max_days = std::min(max_days, static_cast<double>(lateness.count()) / kDayMs / 2);
  return static_cast<std::int64_t>(rng.uniform() * max_days * static_cast<double>(kDayMs));
}

std::string person_id(std::uint64_t index) {
  // A bijection of the index onto ten digits: unique and not in order.
  const std::uint64_t n = 1'000'000'000ULL + (index * 2'654'435'761ULL) % 9'000'000'000ULL;
  return std::to_string(n);
}

class Planner {
 public:
  Planner(const PopulationOptions& o, const OperatorConfig& config) : o_(o), config_(config) {
    for (SourceId s = 0; s < config.sources.size(); ++s) {
      const SourcePolicy& p = config.sources[s];
      if (p.person_level.empty() && (p.purposes & purpose_bit(Purpose::investigation)) != 0) {
        sources.push_back(s);
      }
    }
    for (IndicatorId i = 0; i < config.catalogue.size(); ++i) {
      const Indicator& ind = config.catalogue.at(i);
      if ((ind.subjects_mask & (1U << static_cast<unsigned>(SubjectType::person))) == 0) continue;
      if (ind.code == "worrying_departure") continue;  // the oversight's own signal
      const bool vehicle = (ind.subjects_mask &
                            (1U << static_cast<unsigned>(SubjectType::vehicle))) != 0;
      if (ind.strength == Strength::concrete) {
        concrete.push_back(i);
      } else if (vehicle) {
        vehicle_indicators.push_back(i);
      } else {
        soft.push_back(i);
      }
    }
    for (const auto& l : config.locations) {
      if (config.linking.is_reception(l)) sites.push_back(l);
    }
    if (sites.empty()) sites = {"coa-site-1", "coa-site-2", "coa-site-3", "coa-site-4"};
    coa = find_source("coa");
  }

  std::size_t find_source(std::string_view name) const {
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (config_.sources[sources[i]].name == name) return i;
    }
    return 0;
  }

  PlannedSignal& add(Rng& rng, std::uint64_t person, std::size_t source, IndicatorId indicator,
                     std::int64_t observed) {
    PlannedSignal& s = plan.emplace_back();
    s.person = person;
    s.source = source;
    s.indicator = indicator;
    s.observed_ms = to_second(observed);
    const SourcePolicy& policy = config_.sources[sources[source]];
    s.reported_ms = to_second(observed +
                              reporting_delay(policy.name, policy.allowed_lateness, rng) + 60'000);
    return s;
  }

  std::string plate(std::uint64_t h) const {
    static constexpr char kLetters[] = "BDFGHJKLNPRSTVXZ";
    std::string p;
    for (int i = 0; i < 2; ++i) p += kLetters[(h >> (4 * i)) & 15];
    p += '-';
    p += std::to_string(100 + (h >> 8) % 900);
    p += '-';
    for (int i = 0; i < 2; ++i) p += kLetters[(h >> (20 + 4 * i)) & 15];
    return p;
  }

  void background(std::uint64_t person, Rng& rng) {
    // Most persons meet one organisation once; a few are met again, now and
    // then by another organisation (a school, the police at a fight).
    static constexpr double kMore[] = {0.20, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25};
    std::size_t n = 1;
    while (n < 8 && rng.chance(kMore[n - 1])) ++n;
    const std::size_t home = rng.below(sources.size());
    std::int64_t t = to_ms(o_.start) + rng.below_ms(o_.span.count());
    const std::string site = sites[person % sites.size()];
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t source = rng.chance(0.9) ? home : rng.below(sources.size());
      IndicatorId ind = soft[rng.below(soft.size())];
      if (!concrete.empty() && rng.chance(0.005)) ind = concrete[rng.below(concrete.size())];
      PlannedSignal& s = add(rng, person, source, ind, t);
      if (!vehicle_indicators.empty() && rng.chance(0.04)) {
        s.indicator = vehicle_indicators[rng.below(vehicle_indicators.size())];
        s.vehicle = plate(mix(o_.seed ^ (0x76656869ULL + rng.below(3000))));
        s.location = site;
      }
      t += rng.exponential_ms(days(60));
    }
  }

  void planted(std::uint64_t person, CaseShape shape, Rng& rng, PopulationLabel& label) {
    std::size_t n = 0;
    std::int64_t spread = 0;
    std::size_t orgs = 2 + rng.below(2);
    switch (shape) {
      case CaseShape::fast:
        n = 4 + rng.below(3);
        spread = 21 * kDayMs;
        break;
      case CaseShape::slow:
        n = 5 + rng.below(4);
        spread = (60 + rng.below_ms(61)) * kDayMs;
        break;
      case CaseShape::single_org:
        n = 4 + rng.below(3);
        spread = 30 * kDayMs;
        orgs = 1;
        break;
      case CaseShape::vehicle:
        n = 2 + rng.below(2);
        spread = 28 * kDayMs;
        orgs = 1 + rng.below(2);
        break;
    }
    std::vector<std::size_t> own;
    while (own.size() < orgs) {
      const std::size_t s = rng.below(sources.size());
      if (std::find(own.begin(), own.end(), s) == own.end()) own.push_back(s);
    }
    // Starts late enough in the span that the outcome falls after it.
    const std::int64_t first = to_ms(o_.start) + 30 * kDayMs +
                               rng.below_ms(o_.span.count() - 30 * kDayMs - spread);
    std::vector<std::int64_t> times;
    for (std::size_t i = 0; i < n; ++i) times.push_back(first + rng.below_ms(spread + 1));
    std::sort(times.begin(), times.end());
    times.front() = first;
    for (std::size_t i = 0; i < n; ++i) {
      IndicatorId ind = soft[rng.below(soft.size())];
      if (!concrete.empty() && rng.chance(0.1)) ind = concrete[rng.below(concrete.size())];
      // Every organisation of the case contributes at least once.
      add(rng, person, own[i < own.size() ? i : rng.below(own.size())], ind, times[i]);
    }
    std::int64_t last = times.back();
    if (shape == CaseShape::vehicle && !vehicle_indicators.empty()) {
      // The car that collects him: seen with him, then at reception sites
      // by the reception agency and a second organisation.
      const std::string car = plate(mix(o_.seed ^ 0x636172ULL ^ person));
      const IndicatorId vi = vehicle_indicators[rng.below(vehicle_indicators.size())];
      PlannedSignal& with_him = add(rng, person, coa, vi, times.front() + kDayMs);
      with_him.vehicle = car;
      with_him.location = sites[person % sites.size()];
      for (std::size_t k = 0; k < 3; ++k) {
        const std::size_t source = k == 2 ? rng.below(sources.size()) : coa;
        PlannedSignal& seen = add(rng, kNoPerson, source, vi,
                                  times.front() + static_cast<std::int64_t>(2 + 5 * k) * kDayMs);
        seen.vehicle = car;
        seen.location = sites[(person + k + 1) % sites.size()];
      }
      last = std::max(last, times.front() + 12 * kDayMs);
    }
    label.shape = shape;
    label.pieces = n;
    if (rng.chance(0.7)) {
      label.outcome = "victim.registered";
      label.outcome_at = event_time_from_ms(to_second(last + (14 + rng.below_ms(76)) * kDayMs));
    } else {
      label.outcome = "person.departed_unknown";
      label.outcome_at = event_time_from_ms(to_second(last + (3 + rng.below_ms(28)) * kDayMs));
    }
  }

  static constexpr std::uint64_t kNoPerson = ~0ULL;
  const PopulationOptions& o_;
  const OperatorConfig& config_;
  std::vector<SourceId> sources;  // usable configured sources
  std::vector<IndicatorId> soft, concrete, vehicle_indicators;
  std::vector<std::string> sites;
  std::size_t coa = 0;
  std::vector<PlannedSignal> plan;
};

void write_person(JsonWriter& w, const std::string& id) {
  w.begin_object().key("type").string("person").key("id").string(id);
  w.key("id_scheme").string("v-number").end_object();
}

}  // namespace

std::string_view to_string(CaseShape s) {
  switch (s) {
    case CaseShape::fast: return "fast";
    case CaseShape::slow: return "slow";
    case CaseShape::single_org: return "single_org";
    case CaseShape::vehicle: return "vehicle";
  }
  return "fast";
}

SyntheticPopulation::SyntheticPopulation(const PopulationOptions& o, const OperatorConfig& config) {
  Planner planner(o, config);
  if (planner.sources.empty() || planner.soft.empty()) return;
  Rng background(mix(o.seed ^ 0x6261636bULL));
  for (std::uint64_t p = 0; p < o.persons; ++p) planner.background(p, background);
  std::array<Rng, kCaseShapeCount> shapes{Rng(mix(o.seed ^ 1)), Rng(mix(o.seed ^ 2)),
                                          Rng(mix(o.seed ^ 3)), Rng(mix(o.seed ^ 4))};
  for (std::size_t c = 0; c < o.cases; ++c) {
    const std::uint64_t person = o.persons + c;
    const auto shape = static_cast<CaseShape>(c % kCaseShapeCount);
    PopulationLabel& label = labels_.emplace_back();
    label.id_scheme = "v-number";
    label.id = person_id(person);
    planner.planted(person, shape, shapes[c % kCaseShapeCount], label);
  }
  // Render in reporting order (ties by observation, then plan order).
  std::vector<std::size_t> order(planner.plan.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return planner.plan[a].reported_ms < planner.plan[b].reported_ms;
  });
  struct Timed {
    std::int64_t reported_ms;
    OutRecord record;
  };
  std::vector<Timed> out;
  out.reserve(order.size() + labels_.size());
  std::size_t seq = 0;
  for (const std::size_t i : order) {
    const PlannedSignal& s = planner.plan[i];
    const std::string& source = config.sources[planner.sources[s.source]].name;
    Timed& t = out.emplace_back();
    t.reported_ms = s.reported_ms;
    t.record.topic = o.signals_prefix + source;
    t.record.key = "pop-" + std::to_string(o.seed) + "-" + std::to_string(seq++);
    JsonWriter w(t.record.value);
    w.begin_object().key("schema").string("mozaiek.signal/v1");
    w.key("signal_id").string(t.record.key).key("source").string(source);
    w.key("observed_at").timestamp(s.observed_ms).key("reported_at").timestamp(s.reported_ms);
    w.key("indicator").string(config.catalogue.at(s.indicator).code).key("consent").boolean(true);
    w.key("subjects").begin_array();
    if (s.person != Planner::kNoPerson) write_person(w, person_id(s.person));
    if (!s.vehicle.empty()) {
      w.begin_object().key("type").string("vehicle").key("plate").string(s.vehicle);
      w.key("country").string("PL").end_object();
    }
    if (!s.location.empty()) {
      w.begin_object().key("type").string("location").key("id").string(s.location);
      w.key("kind").string("reception").end_object();
    }
    w.end_array().end_object();
  }
  // The outcomes as chain events, reported a day after they happen.
  for (std::size_t c = 0; c < labels_.size(); ++c) {
    const PopulationLabel& l = labels_[c];
    Timed& t = out.emplace_back();
    const std::int64_t at = to_ms(l.outcome_at);
    t.reported_ms = at + kDayMs;
    t.record.topic = o.chain_topic;
    t.record.key = "pop-" + std::to_string(o.seed) + "-outcome-" + std::to_string(c);
    JsonWriter w(t.record.value);
    w.begin_object().key("schema").string("mozaiek.chain/v1");
    w.key("event_id").string(t.record.key).key("type").string(l.outcome);
    w.key("at").timestamp(at).key("reported_at").timestamp(at + kDayMs);
    const bool registered = l.outcome == "victim.registered";
    w.key("org").string(registered ? "comensha" : "coa");
    if (registered) {
      w.key("registry").string("comensha").key("reporter").string("police");
      w.key("forms").begin_array().string("labour").end_array();
    }
    w.key("subjects").begin_array();
    write_person(w, l.id);
    if (!registered) {
      w.begin_object()
          .key("type")
          .string("location")
          .key("id")
          .string(planner.sites[(o.persons + c) % planner.sites.size()]);
      w.key("kind").string("reception").end_object();
    }
    w.end_array().end_object();
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Timed& a, const Timed& b) { return a.reported_ms < b.reported_ms; });
  records_.reserve(out.size());
  for (auto& t : out) records_.push_back(std::move(t.record));
}

std::string SyntheticPopulation::label_json(const PopulationLabel& l) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("type").string("person").key("id_scheme").string(l.id_scheme);
  w.key("id").string(l.id).key("shape").string(to_string(l.shape));
  w.key("outcome").string(l.outcome).key("outcome_at").timestamp(to_ms(l.outcome_at));
  w.key("pieces").integer(static_cast<std::int64_t>(l.pieces)).end_object();
  return out;
}

}  // namespace mozaiek
