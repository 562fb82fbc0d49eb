// Subject routing: one validated signal becomes one RoutedSignal per subject,
// keyed so that every signal about one subject lands on one partition of the
// internal topic. Pure functions, called on the intake task's thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "operators/model/model.h"
#include "stream/time.h"

namespace mozaiek {

// Expands a validated signal into one RoutedSignal per distinct subject,
// and person-level purpose (investigation, then care), written to
// out[0..n) (entries and their strings are reused; `out` only grows).
// Nothing is routed when !signal.person_level (no consent, an indicator
// outside the source's person_level_indicators, an aggregate_only source):
// not its persons, vehicles or locations; it still counts in aggregates.
// co_subjects are the signal's other subjects. Returns n.
std::size_t route_signal(const Signal& s, EventTime watermark, std::vector<RoutedSignal>& out);

// "<type>:<key>" ("person:<hex>", "vehicle:FR-AB123", "location:coa-ter-apel"):
// the Kafka key of the internal subjects topic.
void routing_key(SubjectType t, std::string_view key, std::string& out);

}  // namespace mozaiek
