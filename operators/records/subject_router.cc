#include "operators/records/subject_router.h"

#include <algorithm>

namespace mozaiek {
namespace {

// A subject named twice in one signal (two spellings of one plate) is routed once.
bool seen_before(const Signal& s, std::size_t i) {
  for (std::size_t j = 0; j < i; ++j) {
    if (s.subjects[j].type == s.subjects[i].type && s.subjects[j].key == s.subjects[i].key) {
      return true;
    }
  }
  return false;
}

// Whether any subject of the signal equal to (type, key) is marked as a
// reception centre (a location named twice counts once, marked by either).
bool marked_reception(const Signal& s, std::size_t count, const SubjectRef& ref) {
  if (ref.type != SubjectType::location) return false;
  for (std::size_t j = 0; j < count; ++j) {
    const SubjectRef& o = s.subjects[j];
    if (o.reception && o.type == ref.type && o.key == ref.key) return true;
  }
  return false;
}

// Appends the signal's routed records for one purpose from out[n]; returns the new n.
std::size_t route_for(const Signal& s, Purpose purpose, EventTime watermark, std::size_t n,
                      std::vector<RoutedSignal>& out) {
  const std::size_t count = std::min(s.subject_count, s.subjects.size());
  for (std::size_t i = 0; i < count; ++i) {
    const SubjectRef& ref = s.subjects[i];
    if (seen_before(s, i)) continue;
    if (out.size() <= n) out.resize(n + 1);
    RoutedSignal& r = out[n++];
    r.subject_type = ref.type;
    r.subject_key.assign(ref.key);
    r.signal_id.assign(s.signal_id);
    r.source = s.source;
    r.indicator = s.indicator;
    r.strength = s.strength;
    r.observed_at = s.observed_at;
    r.reported_at = s.reported_at;
    r.watermark = watermark;
    r.purpose = purpose;
    r.subject_reception = marked_reception(s, count, ref);
    r.co_reception = 0;
    std::size_t c = 0;
    for (std::size_t j = 0; j < count; ++j) {
      const SubjectRef& other = s.subjects[j];
      if (j == i || seen_before(s, j)) continue;
      if (other.type == ref.type && other.key == ref.key) continue;
      if (r.co_subjects.size() <= c) r.co_subjects.resize(c + 1);
      r.co_subjects[c].first = other.type;
      r.co_subjects[c].second.assign(other.key);
      if (c < 32 && marked_reception(s, count, other)) r.co_reception |= 1U << c;
      ++c;
    }
    r.co_subjects.resize(c);
  }
  return n;
}

}  // namespace

std::size_t route_signal(const Signal& s, EventTime watermark, std::vector<RoutedSignal>& out) {
  std::size_t n = 0;
  if (!s.person_level) return n;  // aggregate metrics only, for every subject
  for (const Purpose purpose : {Purpose::investigation, Purpose::care}) {
    if ((s.purposes & purpose_bit(purpose)) != 0) n = route_for(s, purpose, watermark, n, out);
  }
  return n;
}

void routing_key(SubjectType t, std::string_view key, std::string& out) {
  out.assign(to_string(t));
  out.push_back(':');
  out.append(key);
}

}  // namespace mozaiek
