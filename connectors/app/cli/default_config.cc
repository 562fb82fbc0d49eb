#include <unistd.h>

#include <filesystem>

#include "connectors/app/cli/commands.h"

namespace mozaiek::cli {

std::string default_config_path() {
  namespace fs = std::filesystem;
  std::error_code ec;
  // Next to the binary's source tree (build/ sits in the checkout), then the
  // installed location, then the working directory.
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
         dir = dir.parent_path()) {
      candidates.push_back(dir / "config" / "mozaiek.yaml");
    }
  }
  candidates.emplace_back("/etc/mozaiek/mozaiek.yaml");
  candidates.emplace_back("config/mozaiek.yaml");
  for (const auto& c : candidates) {
    if (fs::exists(c, ec)) return c.string();
  }
  return "config/mozaiek.yaml";
}

}  // namespace mozaiek::cli
