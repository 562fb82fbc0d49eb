// An erasure request: which entity to forget, who asks and why. Built from
// the fields of `POST /api/erasure` (a JSON body) or of `mozaiek erase`
// (command-line options) by one piece of code, so both name an entity
// exactly as intake does: a person by raw id and scheme is pseudonymised
// with the same normalisation and key (the raw id is not kept), a plate is
// normalised with its country, a location id is normalised.
//
// Errors name the offending field and never quote its value. Pure
// functions over a borrowed Pseudonymiser; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "operators/intake/pseudonymiser.h"
#include "operators/model/model.h"

namespace mozaiek {

// Bounds of the audited who and why (entity lookups and erasures alike).
inline constexpr std::size_t kMaxAuditUserChars = 128;
inline constexpr std::size_t kMaxAuditReasonChars = 512;

struct ErasureRequest {
  SubjectType type = SubjectType::person;
  std::string key;  // as routed: pseudonym, "<CC>-<PLATE>", location id
  std::string user;
  std::string reason;
};

// The fields as given; nullopt when absent. Views into the caller's text.
struct ErasureFields {
  std::optional<std::string_view> type, id, id_scheme, key, plate, country, reason, user;
};

struct ErasureFieldError {
  std::string field;    // "type", "id_scheme", "reason", ... (the JSON name)
  std::string message;  // what is wrong, without the value
};

// Checks the fields and fills `out`; the error of the first bad field otherwise.
std::optional<ErasureFieldError> make_erasure_request(const ErasureFields& fields,
                                                      const Pseudonymiser& pseudonymiser,
                                                      ErasureRequest& out);

// The JSON body of POST /api/erasure: one object with string members
// type, id, id_scheme, key, plate, country, reason (no others). `user`
// is the authenticated principal of the request. Field "body" when the body is not
// such an object.
std::optional<ErasureFieldError> parse_erasure_json(std::string_view body, std::string_view user,
                                                    const Pseudonymiser& pseudonymiser,
                                                    ErasureRequest& out);

}  // namespace mozaiek
