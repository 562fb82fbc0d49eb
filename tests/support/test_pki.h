// TestPki: a throwaway public-key infrastructure made with OpenSSL for TLS
// tests: CAs and certificates they sign, written as PEM files into a
// TempDir. Keys are EC P-256 (fast to make); certificates are valid from an
// hour ago for a day.
#pragma once

#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace mozaiek::test {

struct PemFiles {
  std::string certificate;  // path of the PEM certificate
  std::string key;          // path of the PEM private key
};

class TestPki {
 public:
  TestPki() = default;

  // A self-signed CA named `common_name`; its files are `<name>.crt/.key`.
  PemFiles make_ca(const std::string& name, const std::string& common_name);
  // A certificate for `subject` ("/O=..../CN=...") signed by `ca`, with
  // `alt_names` ("DNS:localhost", "IP:127.0.0.1") when given.
  PemFiles make_leaf(const std::string& name, const PemFiles& ca, const std::string& organisation,
                     const std::string& common_name,
                     const std::vector<std::string>& alt_names = {});

  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_{"mozaiek-pki"};
  long serial_ = 1;
};

}  // namespace mozaiek::test
