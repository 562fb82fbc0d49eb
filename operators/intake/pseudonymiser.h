// Pseudonymiser: turns a normalised person identifier into the keyed
// pseudonym used as the person's subject key everywhere after intake:
// HMAC-SHA256(key, "<id_scheme>:<normalised id>") as 64 lower-case hex chars.
//
// Key versions (rotation): the key material is either one key (version 1)
// or a versioned key list (kKeyListHeader, then "<n>:<key>" lines for
// n = 1, 2, ...). The pseudonym under version n is HMAC(k_n, pseudonym
// under version n-1) in hex, so state kept under version n-1 moves to n by
// one MAC per stored pseudonym (rekey()), without raw ids, and a leaked old
// key alone no longer computes current pseudonyms.
//
// Built once at startup from the secret key (file or environment, never the
// config repo) and shared read-only by the intake tasks: pseudonymise() is
// const, thread-safe and allocation-free once `out` has capacity.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mozaiek {

class Pseudonymiser {
 public:
  static constexpr std::size_t kMinKeyBytes = 16;
  static constexpr std::size_t kHexChars = 64;
  // First line of a versioned key list.
  static constexpr std::string_view kKeyListHeader = "mozaiek-pseudonym-keys";

  // `key_material`: one key, or a versioned key list. Throws
  // std::invalid_argument (never quoting key bytes) when a key is shorter
  // than kMinKeyBytes or the list is malformed (versions not 1, 2, ... in order).
  explicit Pseudonymiser(std::string_view key_material);
  ~Pseudonymiser();
  // Holds key material: neither copied nor moved around.
  Pseudonymiser(const Pseudonymiser&) = delete;
  Pseudonymiser& operator=(const Pseudonymiser&) = delete;

  // The pseudonym under the newest key version (the whole chain).
  void pseudonymise(std::string_view id_scheme, std::string_view normalised_id,
                    std::string& out_hex64) const;

  // The newest key version (1 for a single key).
  int key_version() const { return static_cast<int>(states_.size()); }

  // A pseudonym made under key version `from_version` moved to the newest
  // version: the MACs of versions from_version+1 .. key_version() applied in
  // turn. `out_hex64` may be the string `pseudonym` views. Precondition:
  // 1 <= from_version <= key_version() and `pseudonym` is_pseudonym().
  void rekey(std::string_view pseudonym, int from_version, std::string& out_hex64) const;

  // HMAC-SHA256(key version 1, message) as hex: the primitive pseudonymise()
  // applies to "<id_scheme>:<normalised id>", for known-answer tests (RFC 4231).
  void mac_hex(std::string_view message, std::string& out_hex64) const;

 private:
  struct PaddedKeyStates;  // HMAC inner/outer SHA-256 states after absorbing the padded key
  using Hex64 = char[kHexChars];
  // MAC under key `version` (1-based) of the concatenation a + b + c, hashed
  // piecewise to avoid building it.
  void mac_parts(int version, std::string_view a, std::string_view b, std::string_view c,
                 Hex64& out) const;
  // The MACs of versions from+1 .. newest over `hex`, in place.
  void chain_from(int from, Hex64& hex) const;
  void add_key(std::string_view key);
  std::vector<std::unique_ptr<PaddedKeyStates>> states_;  // [0] is version 1
};

// The canonical form of a person identifier before pseudonymisation, so
// "1234.56.789", " 123456789 " and "1234-56-789" give one pseudonym: ASCII
// whitespace, dots and dashes removed, ASCII letters upper case, other bytes kept.
void normalise_person_id(std::string_view id, std::string& out);
std::string normalise_person_id(std::string_view id);

// An id_scheme ("bsn", "v-number", "eurodac") trimmed and lower case into
// `out`; false unless it is then 1+ characters of [a-z0-9._-] (no ':', which
// separates it from the id in the MAC input).
bool normalise_id_scheme(std::string_view scheme, std::string& out);

enum class PersonIdProblem { none, bad_scheme, empty_id };

// A person named by raw id and scheme, pseudonymised the way intake does
// (normalise_id_scheme, normalise_person_id, then the MAC) into `out`. The
// scratch strings are reused; the normalised id is wiped from `id_scratch`
// before returning. On a problem `out` is unchanged.
PersonIdProblem pseudonymise_person(const Pseudonymiser& pseudonymiser, std::string_view scheme,
                                    std::string_view id, std::string& scheme_scratch,
                                    std::string& id_scratch, std::string& out);

// Whether `key` has the form of a person pseudonym: 64 lower-case hex digits.
bool is_pseudonym(std::string_view key);

}  // namespace mozaiek
