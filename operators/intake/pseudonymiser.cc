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

Pseudonymiser::Pseudonymiser(std::string_view key) : states_(std::make_unique<PaddedKeyStates>()) {
  if (key.size() < kMinKeyBytes) {
    throw std::invalid_argument("pseudonym key must be at least 16 bytes");
  }
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
  SHA256_Init(&states_->inner);
  SHA256_Update(&states_->inner, pad, kBlock);
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = k0[i] ^ 0x5c;
  SHA256_Init(&states_->outer);
  SHA256_Update(&states_->outer, pad, kBlock);
  OPENSSL_cleanse(k0, sizeof k0);
  OPENSSL_cleanse(pad, sizeof pad);
}

Pseudonymiser::~Pseudonymiser() { OPENSSL_cleanse(states_.get(), sizeof(PaddedKeyStates)); }

void Pseudonymiser::pseudonymise(std::string_view id_scheme, std::string_view normalised_id,
                                 std::string& out_hex64) const {
  mac_parts(id_scheme, ":", normalised_id, out_hex64);
}

void Pseudonymiser::mac_hex(std::string_view message, std::string& out_hex64) const {
  mac_parts(message, {}, {}, out_hex64);
}

void Pseudonymiser::mac_parts(std::string_view a, std::string_view b, std::string_view c,
                              std::string& out_hex64) const {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx = states_->inner;
  SHA256_Update(&ctx, a.data(), a.size());
  SHA256_Update(&ctx, b.data(), b.size());
  SHA256_Update(&ctx, c.data(), c.size());
  SHA256_Final(digest, &ctx);
  ctx = states_->outer;
  SHA256_Update(&ctx, digest, sizeof digest);
  SHA256_Final(digest, &ctx);
  // The inner state held the raw identifier; do not leave it on the stack.
  OPENSSL_cleanse(&ctx, sizeof ctx);

  static constexpr char kHex[] = "0123456789abcdef";
  out_hex64.resize(kHexChars);
  char* p = out_hex64.data();
  for (unsigned char b : digest) {
    *p++ = kHex[b >> 4];
    *p++ = kHex[b & 0x0f];
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
