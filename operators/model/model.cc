#include "operators/model/model.h"

namespace mozaiek {

std::string_view to_string(SubjectType t) {
  switch (t) {
    case SubjectType::person: return "person";
    case SubjectType::vehicle: return "vehicle";
    case SubjectType::location: return "location";
  }
  return "unknown";
}

std::optional<SubjectType> subject_type_from(std::string_view s) {
  if (s == "person") return SubjectType::person;
  if (s == "vehicle") return SubjectType::vehicle;
  if (s == "location") return SubjectType::location;
  return std::nullopt;
}

std::string_view to_string(Purpose p) {
  switch (p) {
    case Purpose::investigation: return "investigation";
    case Purpose::care: return "care";
    case Purpose::aggregate_only: return "aggregate_only";
  }
  return "unknown";
}

std::optional<Purpose> purpose_from(std::string_view s) {
  if (s == "investigation") return Purpose::investigation;
  if (s == "care") return Purpose::care;
  if (s == "aggregate_only") return Purpose::aggregate_only;
  return std::nullopt;
}

std::string rule_name(std::string_view configured, Purpose purpose) {
  if (purpose == Purpose::investigation) return std::string(configured);
  std::string out(to_string(purpose));
  out.push_back('_');
  out.append(configured);
  return out;
}

std::string_view to_string(Strength s) { return s == Strength::concrete ? "concrete" : "soft"; }

std::optional<Strength> strength_from(std::string_view s) {
  if (s == "soft") return Strength::soft;
  if (s == "concrete") return Strength::concrete;
  return std::nullopt;
}

std::optional<std::uint8_t> form_from(std::string_view s) {
  if (s == "sexual") return kFormSexual;
  if (s == "labour") return kFormLabour;
  if (s == "criminal") return kFormCriminal;
  if (s == "organ") return kFormOrgan;
  return std::nullopt;
}

IndicatorId Catalogue::add(Indicator ind) {
  auto id = static_cast<IndicatorId>(indicators_.size());
  by_code_.emplace(ind.code, id);
  indicators_.push_back(std::move(ind));
  return id;
}

std::optional<IndicatorId> Catalogue::find(std::string_view code) const {
  auto it = by_code_.find(code);
  if (it == by_code_.end()) return std::nullopt;
  return it->second;
}

std::optional<SourceId> OperatorConfig::find_source(std::string_view name) const {
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].name == name) return static_cast<SourceId>(i);
  }
  return std::nullopt;
}

bool LinkingConfig::is_reception(std::string_view location) const {
  for (const auto& r : reception_locations) {
    if (!r.empty() && r.back() == '-' ? location.starts_with(r) : location == r) return true;
  }
  return false;
}

}  // namespace mozaiek
