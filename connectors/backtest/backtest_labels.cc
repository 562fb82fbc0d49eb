#include "connectors/backtest/backtest_labels.h"

#include <simdjson.h>

#include <fstream>

#include "operators/erasure/erasure_request.h"

namespace mozaiek {
namespace {

std::optional<std::string_view> member(simdjson::dom::object& o, const char* name) {
  std::string_view v;
  if (o[name].get_string().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

}  // namespace

Status load_labels(const std::string& path, const Pseudonymiser& pseudonymiser, KnownCases& cases) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("cannot read labels file " + path);
  simdjson::dom::parser parser;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + " line " + std::to_string(n);
    simdjson::dom::object o;
    if (parser.parse(line).get_object().get(o) != simdjson::SUCCESS) {
      return Status::error(where + ": not a JSON object");
    }
    ErasureFields fields;
    fields.type = member(o, "type");
    fields.id = member(o, "id");
    fields.id_scheme = member(o, "id_scheme");
    fields.key = member(o, "key");
    fields.reason = "backtest label";
    fields.user = "backtest";
    if (fields.type != "person") return Status::error(where + ": field type: must be \"person\"");
    ErasureRequest person;
    if (auto error = make_erasure_request(fields, pseudonymiser, person)) {
      return Status::error(where + ": field " + error->field + ": " + error->message);
    }
    KnownCase k{0, "label", std::string(member(o, "shape").value_or(""))};
    if (auto at = member(o, "outcome_at")) {
      auto t = parse_rfc3339(*at);
      if (!t) return Status::error(where + ": field outcome_at: not an RFC 3339 time");
      k.outcome_at_ms = to_ms(*t);
      k.outcome = std::string(member(o, "outcome").value_or("label"));
    }
    cases[person.key] = std::move(k);
  }
  return Status::ok();
}

}  // namespace mozaiek
