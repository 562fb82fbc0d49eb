// Pseudonymiser: turns a normalised person identifier into the keyed
// pseudonym used as the person's subject key everywhere after intake:
// HMAC-SHA256(key, "<id_scheme>:<normalised id>") as 64 lower-case hex chars.
//
// Built once at startup from the secret key (file or environment, never the
// config repo) and shared read-only by the intake tasks: pseudonymise() is
// const, thread-safe and allocation-free once `out` has capacity.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace mozaiek {

class Pseudonymiser {
 public:
  static constexpr std::size_t kMinKeyBytes = 16;
  static constexpr std::size_t kHexChars = 64;

  // Throws std::invalid_argument when the key is shorter than kMinKeyBytes.
  explicit Pseudonymiser(std::string_view key);
  ~Pseudonymiser();
  // Holds key material: neither copied nor moved around.
  Pseudonymiser(const Pseudonymiser&) = delete;
  Pseudonymiser& operator=(const Pseudonymiser&) = delete;

  void pseudonymise(std::string_view id_scheme, std::string_view normalised_id,
                    std::string& out_hex64) const;

  // HMAC-SHA256(key, message) as hex: the primitive pseudonymise() applies to
  // "<id_scheme>:<normalised id>", for known-answer tests (RFC 4231).
  void mac_hex(std::string_view message, std::string& out_hex64) const;

 private:
  struct PaddedKeyStates;  // HMAC inner/outer SHA-256 states after absorbing the padded key
  // MAC of the concatenation a + b + c, hashed piecewise to avoid building it.
  void mac_parts(std::string_view a, std::string_view b, std::string_view c,
                 std::string& out_hex64) const;
  std::unique_ptr<PaddedKeyStates> states_;
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
