#include "operators/oversight/oversight_records.h"

#include <algorithm>

#include "operators/records/wire_format.h"

namespace mozaiek::oversight {
namespace {

using wire::put_string;
using wire::put_time;
using wire::put_varint;
using wire::Reader;

constexpr std::uint8_t kFormat = 1;
// Persons: version 2 adds departure_unmatched and departed_from at the end;
// 1 is still read.
constexpr std::uint8_t kPersonFormat = 2;

void put_seen(const SeenIds& s, std::string& out) {
  put_varint(s.ids.size(), out);
  for (const auto& id : s.ids) put_string(id, out);
}

bool get_count(Reader& in, std::uint64_t& n) {
  return in.varint(n) && n <= in.remaining();  // every element takes at least one byte
}

bool get_seen(Reader& in, SeenIds& s) {
  std::uint64_t n;
  if (!get_count(in, n)) return false;
  s.ids.resize(n);
  for (auto& id : s.ids) {
    if (!in.string(id)) return false;
  }
  return true;
}

bool get_flag(Reader& in, bool& b) {
  std::uint8_t v;
  if (!in.byte(v) || v > 1) return false;
  b = v == 1;
  return true;
}

bool start(Reader& in) {
  std::uint8_t v;
  return in.byte(v) && v == kFormat;
}

}  // namespace

bool SeenIds::contains(std::string_view id) const {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

void SeenIds::add(std::string_view id) {
  if (ids.size() >= kMax) ids.erase(ids.begin());
  ids.emplace_back(id);
}

void encode(const Melding& m, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(kFormat));
  put_string(m.from, out);
  put_string(m.to, out);
  put_time(m.sent_at, out);
  put_time(m.ack_at, out);
  put_time(m.feedback_at, out);
  put_string(m.sent_event_id, out);
  out.push_back(static_cast<char>(m.ack_observed));
  out.push_back(static_cast<char>(m.feedback_observed));
  out.push_back(static_cast<char>(m.breached));
  put_seen(m.seen, out);
}

bool decode(std::string_view bytes, Melding& m) {
  Reader in(bytes);
  return start(in) && in.string(m.from) && in.string(m.to) && in.time(m.sent_at) &&
         in.time(m.ack_at) && in.time(m.feedback_at) && in.string(m.sent_event_id) &&
         get_flag(in, m.ack_observed) && get_flag(in, m.feedback_observed) &&
         get_flag(in, m.breached) && get_seen(in, m.seen) && in.remaining() == 0;
}

void encode(const Person& p, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(kPersonFormat));
  out.push_back(static_cast<char>(p.status));
  put_time(p.arrived_at, out);
  put_time(p.departed_at, out);
  put_string(p.location, out);
  put_string(p.age_group, out);
  put_string(p.region, out);
  out.push_back(static_cast<char>(p.converging));
  put_time(p.last_at, out);
  put_varint(p.registrations.size(), out);
  for (const auto& r : p.registrations) {
    put_string(r.event_id, out);
    put_varint(static_cast<std::uint64_t>(r.year), out);
    out.push_back(static_cast<char>(r.forms));
    put_string(r.reporter, out);
    put_string(r.registry, out);
  }
  put_seen(p.seen, out);
  out.push_back(static_cast<char>(p.departure_unmatched));
  put_varint(p.departed_from.size(), out);
  for (const auto& l : p.departed_from) put_string(l, out);
}

bool decode(std::string_view bytes, Person& p) {
  Reader in(bytes);
  std::uint8_t version, status;
  if (!in.byte(version) || version < kFormat || version > kPersonFormat || !in.byte(status) ||
      status > 2) {
    return false;
  }
  p.status = static_cast<PersonStatus>(status);
  if (!in.time(p.arrived_at) || !in.time(p.departed_at) || !in.string(p.location) ||
      !in.string(p.age_group) || !in.string(p.region) || !get_flag(in, p.converging) ||
      !in.time(p.last_at)) {
    return false;
  }
  std::uint64_t n;
  if (!get_count(in, n)) return false;
  p.registrations.resize(n);
  for (auto& r : p.registrations) {
    std::uint64_t year;
    if (!in.string(r.event_id) || !in.varint(year) || year > 9999 || !in.byte(r.forms) ||
        !in.string(r.reporter) || !in.string(r.registry)) {
      return false;
    }
    r.year = static_cast<int>(year);
  }
  if (!get_seen(in, p.seen)) return false;
  p.departure_unmatched = false;
  p.departed_from.clear();
  if (version >= 2) {
    if (!get_flag(in, p.departure_unmatched) || !get_count(in, n) || n > Person::kMaxDepartedFrom) {
      return false;
    }
    p.departed_from.resize(n);
    for (auto& l : p.departed_from) {
      if (!in.string(l)) return false;
    }
  }
  return in.remaining() == 0;
}

void encode(const LocationState& l, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(kFormat));
  put_time(l.last_spike_at, out);
  put_varint(l.departures.size(), out);
  for (const auto& d : l.departures) {
    put_time(d.at, out);
    put_string(d.event_id, out);
    put_string(d.org, out);
    put_string(d.person_key, out);
  }
}

bool decode(std::string_view bytes, LocationState& l) {
  Reader in(bytes);
  std::uint64_t n;
  if (!start(in) || !in.time(l.last_spike_at) || !get_count(in, n)) return false;
  l.departures.resize(n);
  for (auto& d : l.departures) {
    if (!in.time(d.at) || !in.string(d.event_id) || !in.string(d.org) || !in.string(d.person_key)) {
      return false;
    }
  }
  return in.remaining() == 0;
}

void encode(const ErasedCounts& counts, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(kFormat));
  put_varint(counts.size(), out);
  for (const auto& [key, n] : counts) {
    put_varint(std::get<0>(key), out);
    wire::put_signed(std::get<1>(key), out);
    put_string(std::get<2>(key), out);
    put_string(std::get<3>(key), out);
    wire::put_signed(n, out);
  }
}

bool decode(std::string_view bytes, ErasedCounts& counts) {
  Reader in(bytes);
  std::uint8_t format;
  std::uint64_t size;
  if (!in.byte(format) || format != kFormat || !get_count(in, size)) return false;
  counts.clear();
  for (std::uint64_t i = 0; i < size; ++i) {
    std::uint64_t rule;
    std::int64_t year, n;
    std::string dimension, value;
    if (!in.varint(rule) || !in.signed_varint(year) || !in.string(dimension) || !in.string(value) ||
        !in.signed_varint(n)) {
      return false;
    }
    counts[{static_cast<std::size_t>(rule), static_cast<int>(year), dimension, value}] = n;
  }
  return in.remaining() == 0;
}

}  // namespace mozaiek::oversight
