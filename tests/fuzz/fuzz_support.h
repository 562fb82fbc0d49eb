// What every libFuzzer target in tests/fuzz/ shares: the shipped operator
// config (config/mozaiek.yaml, loaded once), a pseudonymiser with a fixed
// test key, and FUZZ_CHECK, which aborts (a finding) when a property fails.
// Header only: each target is one small executable.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "operators/intake/pseudonymiser.h"
#include "operators/model/config_loader.h"
#include "operators/model/model.h"

namespace mozaiek::fuzz {

inline std::string_view bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The operator config of config/mozaiek.yaml in the source tree; aborts if
// it does not load, since every finding would then be about the wrong config.
inline const OperatorConfig& shipped_config() {
  static const OperatorConfig config = [] {
    OperatorConfig c;
    std::vector<std::string> errors;
    const std::string dir = std::string(MOZAIEK_SOURCE_DIR) + "/config";
    if (!load_operator_config(YAML::LoadFile(dir + "/mozaiek.yaml"), c, errors, dir)) {
      std::fprintf(stderr, "fuzz: config/mozaiek.yaml does not load: %s\n",
                   errors.empty() ? "?" : errors.front().c_str());
      std::abort();
    }
    return c;
  }();
  return config;
}

inline const Pseudonymiser& pseudonymiser() {
  static const Pseudonymiser p("fuzz-pseudonym-key-0123456789");
  return p;
}

}  // namespace mozaiek::fuzz

// A property of the code under test that must hold for every input.
#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (false)
