// Reads the operator sections of a mozaiek config (catalogue, sources, rules,
// privacy.retention_days, limits, metrics) into an OperatorConfig, validating
// every value. Errors name the YAML path of the bad key, e.g.
// "rules.person.half_life_days: must be > 0 (line 42)".
//
// Called once at startup (and by `mozaiek check-config`) on the caller's
// thread. Top-level keys outside these sections (service, kafka) belong to the
// service settings and are checked there, not here.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "operators/model/model.h"
#include "stream/config_schema.h"

namespace mozaiek {

struct ConfigErrors {
  std::vector<std::string> errors;
  bool ok() const { return errors.empty(); }
};

// The top-level keys this loader reads.
const std::vector<std::string>& operator_config_sections();

// Fills `out` from `root` (the whole config document). Relative
// `catalogue.catalogue_file` paths are resolved against `base_dir` (the
// directory of the config file; the working directory when empty).
// Returns false, leaving `out` untouched, when any error was found; every
// error found is appended to `errors`.
bool load_operator_config(const YAML::Node& root, OperatorConfig& out,
                          std::vector<std::string>& errors, const std::string& base_dir = "");

// The declarations of the operator sections, for the config reference.
std::vector<config::SectionDoc> operator_config_reference();

}  // namespace mozaiek
