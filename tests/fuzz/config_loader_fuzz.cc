// The config loader: YAML text -> the settings schema, the operator
// sections and the cross-checks, as `mozaiek run` and `check-config` read a
// config file. Properties: no input throws out of the loader or reads out of
// bounds, and it refuses with at least one error or accepts with none.
#include <string>
#include <vector>

#include "connectors/app/settings.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mozaiek;
  Settings settings;
  std::vector<std::string> errors;
  // A directory that does not exist: relative file names in the input
  // (catalogue_file, TLS files) name nothing.
  const bool ok = load_settings_text(std::string(fuzz::bytes(data, size)),
                                     "/nonexistent-mozaiek-fuzz/mozaiek.yaml", settings, errors);
  FUZZ_CHECK(ok == errors.empty());
  return 0;
}
