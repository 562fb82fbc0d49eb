#pragma once

// Reading back the service's own records (audit, alert actions) from their
// topics: each is a JSON object that names its schema, and each field read is
// bounded, so one odd record cannot grow what is kept in memory.

#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace mozaiek {

// Parses `json` into `doc` and checks that it is an object whose "schema" is
// `schema`. On failure sets `error` to the field at fault ("record" or
// "schema"). The parser owns the document's strings; `json` need not outlive it.
inline bool open_record(simdjson::dom::parser& parser, std::string_view json,
                        std::string_view schema, simdjson::dom::element& doc, std::string& error) {
  const simdjson::padded_string padded(json);
  if (parser.parse(padded).get(doc) || !doc.is_object()) {
    error = "record";
    return false;
  }
  std::string_view text;
  if (doc["schema"].get(text) || text != schema) {
    error = "schema";
    return false;
  }
  return true;
}

// Copies the string field `field` into `out` when it is present, at most
// `max` bytes long and (unless `allow_empty`) not empty; otherwise names it in
// `error`.
inline bool read_text(simdjson::dom::element doc, const char* field, std::size_t max,
                      bool allow_empty, std::string& out, std::string& error) {
  std::string_view text;
  if (doc[field].get(text) || (!allow_empty && text.empty()) || text.size() > max) {
    error = field;
    return false;
  }
  out.assign(text);
  return true;
}

}  // namespace mozaiek
