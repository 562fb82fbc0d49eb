#include "operators/intake/pseudonymiser.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

// The low-level SHA-256 API is deprecated in OpenSSL 3 but is the only way to
// snapshot a hash state: HMAC then costs two state copies and three
// compression calls instead of re-absorbing the padded key twice per record.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace mozaiek {

struct Pseudonymiser::PaddedKeyStates {
  SHA256_CTX inner;
  SHA256_CTX outer;
};

namespace {

std::string_view trim_cr(std::string_view line) {
  while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

Pseudonymiser::Pseudonymiser(std::string_view key_material) {
  const std::string_view header = kKeyListHeader;
  const bool is_list = key_material.substr(0, header.size()) == header &&
                       (key_material.size() == header.size() ||
                        key_material[header.size()] == '\n' || key_material[header.size()] == '\r');
  if (!is_list) {
    add_key(key_material);
    return;
  }
  // "<n>:<key>" lines after the header; empty lines are skipped.
  std::string_view rest = key_material.substr(header.size());
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    const std::string_view line = trim_cr(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.empty()) continue;
    const std::size_t colon = line.find(':');
    const std::string expected = std::to_string(states_.size() + 1);
    if (colon == std::string_view::npos || line.substr(0, colon) != expected) {
      throw std::invalid_argument("pseudonym key list: line " + expected + " must start with '" +
                                  expected + ":' (versions 1, 2, ... in order)");
    }
    add_key(line.substr(colon + 1));
  }
  if (states_.empty()) throw std::invalid_argument("pseudonym key list holds no key");
}

void Pseudonymiser::add_key(std::string_view key) {
  if (key.size() < kMinKeyBytes) {
    throw std::invalid_argument(
        states_.empty() ? std::string("pseudonym key must be at least 16 bytes")
                        : "pseudonym key version " + std::to_string(states_.size() + 1) +
                              " must be at least 16 bytes");
  }
  auto states = std::make_unique<PaddedKeyStates>();
  constexpr std::size_t kBlock = SHA256_CBLOCK;
  unsigned char k0[kBlock] = {};
  if (key.size() > kBlock) {
    // RFC 2104: keys longer than the block size are hashed first.
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), k0);
  } else {
    std::memcpy(k0, key.data(), key.size());
  }
  unsigned char pad[kBlock];
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = k0[i] ^ 0x36;
  SHA256_Init(&states->inner);
  SHA256_Update(&states->inner, pad, kBlock);
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = k0[i] ^ 0x5c;
  SHA256_Init(&states->outer);
  SHA256_Update(&states->outer, pad, kBlock);
  OPENSSL_cleanse(k0, sizeof k0);
  OPENSSL_cleanse(pad, sizeof pad);
  states_.push_back(std::move(states));
}

Pseudonymiser::~Pseudonymiser() {
  for (auto& s : states_) OPENSSL_cleanse(s.get(), sizeof(PaddedKeyStates));
}

void Pseudonymiser::pseudonymise(std::string_view id_scheme, std::string_view normalised_id,
                                 std::string& out_hex64) const {
  Hex64 hex;
  mac_parts(1, id_scheme, ":", normalised_id, hex);
  chain_from(1, hex);
  out_hex64.assign(hex, kHexChars);
}

void Pseudonymiser::rekey(std::string_view pseudonym, int from_version,
                          std::string& out_hex64) const {
  Hex64 hex;
  std::memcpy(hex, pseudonym.data(), std::min(pseudonym.size(), kHexChars));
  chain_from(from_version, hex);
  out_hex64.assign(hex, kHexChars);
}

void Pseudonymiser::mac_hex(std::string_view message, std::string& out_hex64) const {
  Hex64 hex;
  mac_parts(1, message, {}, {}, hex);
  out_hex64.assign(hex, kHexChars);
}

void Pseudonymiser::chain_from(int from, Hex64& hex) const {
  for (int v = from + 1; v <= key_version(); ++v) {
    const std::string_view previous(hex, kHexChars);
    Hex64 next;
    mac_parts(v, previous, {}, {}, next);
    std::memcpy(hex, next, kHexChars);
  }
}

void Pseudonymiser::mac_parts(int version, std::string_view a, std::string_view b,
                              std::string_view c, Hex64& out) const {
  const PaddedKeyStates& states = *states_[static_cast<std::size_t>(version - 1)];
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx = states.inner;
  SHA256_Update(&ctx, a.data(), a.size());
  SHA256_Update(&ctx, b.data(), b.size());
  SHA256_Update(&ctx, c.data(), c.size());
  SHA256_Final(digest, &ctx);
  ctx = states.outer;
  SHA256_Update(&ctx, digest, sizeof digest);
  SHA256_Final(digest, &ctx);
  // The inner state held the raw identifier; do not leave it on the stack.
  OPENSSL_cleanse(&ctx, sizeof ctx);

  static constexpr char kHex[] = "0123456789abcdef";
  char* p = out;
  for (unsigned char byte : digest) {
    *p++ = kHex[byte >> 4];
    *p++ = kHex[byte & 0x0f];
  }
}

void normalise_person_id(std::string_view id, std::string& out) {
  out.clear();
  for (char c : id) {
    switch (c) {
      case ' ':
      case '\t':
      case '\n':
      case '\r':
      case '\f':
      case '\v':
      case '.':
      case '-': continue;
      default: out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    }
  }
}

std::string normalise_person_id(std::string_view id) {
  std::string out;
  normalise_person_id(id, out);
  return out;
}

bool normalise_id_scheme(std::string_view scheme, std::string& out) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  std::size_t b = 0;
  std::size_t e = scheme.size();
  while (b < e && space(scheme[b])) ++b;
  while (e > b && space(scheme[e - 1])) --e;
  out.clear();
  for (std::size_t i = b; i < e; ++i) {
    const char c = scheme[i] >= 'A' && scheme[i] <= 'Z' ? static_cast<char>(scheme[i] - 'A' + 'a')
                                                        : scheme[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == '-';
    if (!ok) return false;
    out.push_back(c);
  }
  return !out.empty();
}

PersonIdProblem pseudonymise_person(const Pseudonymiser& pseudonymiser, std::string_view scheme,
                                    std::string_view id, std::string& scheme_scratch,
                                    std::string& id_scratch, std::string& out) {
  if (!normalise_id_scheme(scheme, scheme_scratch)) return PersonIdProblem::bad_scheme;
  normalise_person_id(id, id_scratch);
  if (id_scratch.empty()) return PersonIdProblem::empty_id;
  pseudonymiser.pseudonymise(scheme_scratch, id_scratch, out);
  // Do not keep the raw identifier around in a long-lived buffer.
  std::fill(id_scratch.begin(), id_scratch.end(), '\0');
  id_scratch.clear();
  return PersonIdProblem::none;
}

bool is_pseudonym(std::string_view key) {
  if (key.size() != Pseudonymiser::kHexChars) return false;
  for (char c : key) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace mozaiek

#pragma GCC diagnostic pop
