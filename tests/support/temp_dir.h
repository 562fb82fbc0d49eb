// A fresh directory under the system's temporary directory, removed with
// everything in it when the object goes. For tests that open RocksDB or
// write files.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace mozaiek::test {

class TempDir {
 public:
  // `prefix` names the directory ("mozaiek-store" -> mozaiek-store-XXXXXX),
  // so a directory left behind says which test made it. path() is empty
  // when it could not be made.
  explicit TempDir(std::string_view prefix = "mozaiek-test") {
    std::string pattern =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace mozaiek::test
