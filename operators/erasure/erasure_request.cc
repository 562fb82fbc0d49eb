#include "operators/erasure/erasure_request.h"

#include <simdjson.h>

#include <algorithm>
#include <array>

#include "operators/intake/subject_normaliser.h"

namespace mozaiek {
namespace {

constexpr std::size_t kMaxBodyBytes = std::size_t{16} * 1024;
constexpr std::size_t kMaxFieldBytes = 1024;

ErasureFieldError bad(std::string_view field, std::string_view message) {
  return ErasureFieldError{std::string(field), std::string(message)};
}

// Text that is there, not empty and not too long.
std::optional<ErasureFieldError> check_text(std::string_view field,
                                            const std::optional<std::string_view>& value,
                                            std::size_t max) {
  if (!value || value->empty()) return bad(field, "is required");
  if (value->size() > max) {
    return bad(field, "is longer than " + std::to_string(max) + " characters");
  }
  return std::nullopt;
}

// A field that the subject type does not take.
std::optional<ErasureFieldError> refuse(std::string_view field,
                                        const std::optional<std::string_view>& value,
                                        SubjectType type) {
  if (!value) return std::nullopt;
  return bad(field, std::string("does not apply to type ") + std::string(to_string(type)));
}

}  // namespace

std::optional<ErasureFieldError> make_erasure_request(const ErasureFields& f,
                                                      const Pseudonymiser& pseudonymiser,
                                                      ErasureRequest& out) {
  if (auto e = check_text("type", f.type, 16)) return e;
  const auto type = subject_type_from(*f.type);
  if (!type) return bad("type", "must be one of: person, vehicle, location");
  out.type = *type;
  switch (*type) {
    case SubjectType::person: {
      for (auto [name, value] : {std::pair{"plate", &f.plate}, std::pair{"country", &f.country}}) {
        if (auto e = refuse(name, *value, *type)) return e;
      }
      if (f.key && (f.id || f.id_scheme)) {
        return bad(f.id ? "id" : "id_scheme", "give either key (a pseudonym) or id and id_scheme");
      }
      if (f.key) {
        if (!is_pseudonym(*f.key))
          return bad("key", "must be a pseudonym (64 lower-case hex digits)");
        out.key.assign(*f.key);
        break;
      }
      if (auto e = check_text("id", f.id, kMaxFieldBytes)) return e;
      if (auto e = check_text("id_scheme", f.id_scheme, kMaxFieldBytes)) return e;
      std::string scheme, id;
      switch (pseudonymise_person(pseudonymiser, *f.id_scheme, *f.id, scheme, id, out.key)) {
        case PersonIdProblem::bad_scheme:
          return bad("id_scheme", "must be letters, digits, '.', '_' or '-'");
        case PersonIdProblem::empty_id: return bad("id", "is empty once normalised");
        case PersonIdProblem::none: break;
      }
      break;
    }
    case SubjectType::vehicle: {
      for (auto [name, value] : {std::pair{"id", &f.id}, std::pair{"id_scheme", &f.id_scheme},
                                 std::pair{"key", &f.key}}) {
        if (auto e = refuse(name, *value, *type)) return e;
      }
      if (auto e = check_text("plate", f.plate, kMaxFieldBytes)) return e;
      if (f.country && f.country->size() > 16) return bad("country", "is not a country code");
      if (!normalise_vehicle_key(*f.plate, f.country.value_or(std::string_view()), out.key)) {
        return bad("plate", "must be 1 to 12 letters or digits once separators are removed");
      }
      break;
    }
    case SubjectType::location: {
      for (auto [name, value] : {std::pair{"id_scheme", &f.id_scheme}, std::pair{"key", &f.key},
                                 std::pair{"plate", &f.plate}, std::pair{"country", &f.country}}) {
        if (auto e = refuse(name, *value, *type)) return e;
      }
      if (auto e = check_text("id", f.id, kMaxFieldBytes)) return e;
      if (!normalise_location_id(*f.id, out.key)) {
        return bad("id", "must be 1 to 64 of [a-z0-9._:-] once normalised");
      }
      break;
    }
  }
  if (auto e = check_text("reason", f.reason, kMaxAuditReasonChars)) return e;
  if (auto e = check_text("user", f.user, kMaxAuditUserChars)) return e;
  out.reason.assign(*f.reason);
  out.user.assign(*f.user);
  return std::nullopt;
}

std::optional<ErasureFieldError> parse_erasure_json(std::string_view body, std::string_view user,
                                                    const Pseudonymiser& pseudonymiser,
                                                    ErasureRequest& out) {
  if (body.size() > kMaxBodyBytes) return bad("body", "is larger than 16 KiB");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::padded_string padded(body);
  // The copy may hold a raw person id: wiped on every way out.
  struct Wipe {
    simdjson::padded_string& s;
    ~Wipe() { std::fill(s.data(), s.data() + s.size(), '\0'); }
  } wipe{padded};
  if (parser.parse(padded).get(root)) return bad("body", "is not valid JSON");
  simdjson::dom::object object;
  if (root.get_object().get(object)) return bad("body", "must be a JSON object");
  ErasureFields f;
  static constexpr std::array<std::string_view, 7> kNames = {"type",  "id",      "id_scheme", "key",
                                                             "plate", "country", "reason"};
  const std::array<std::optional<std::string_view>*, 7> slots = {&f.type,  &f.id,    &f.id_scheme,
                                                                 &f.key,   &f.plate, &f.country,
                                                                 &f.reason};
  for (auto [name, value] : object) {
    std::size_t i = 0;
    while (i < kNames.size() && kNames[i] != name) ++i;
    if (i == kNames.size()) {
      // A member's name is echoed only when it is short and plain.
      const bool plain = name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || c == '_';
                         });
      return bad(plain ? name : "body", plain ? "is not a known field" : "has an unknown field");
    }
    if (slots[i]->has_value()) return bad(name, "is given twice");
    std::string_view text;
    if (value.get_string().get(text)) return bad(name, "must be a string");
    *slots[i] = text;
  }
  f.user = user;
  return make_erasure_request(f, pseudonymiser, out);
}

}  // namespace mozaiek
