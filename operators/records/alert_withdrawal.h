// Alert withdrawal records, written on the alerts topics when an entity is
// erased (ConvergenceStage::process_erasure and the erasure notices it
// sends; see operators/erasure/README.md):
//
// - v2 (schema mozaiek.alert-withdrawal/v2, config/schemas/
//   alert-withdrawal.v2.schema.json): one alert, by its `alert_id`, keyed by
//   that id (so it lands on its alert's partition, after it). When the
//   alert's subject is another entity that still meets the rule without the
//   erased one, `reissued_as` names the alert that replaces it (raised in
//   the same batch). Names no entity: an erased pseudonym is not repeated.
// - v1 (schema mozaiek.alert-withdrawal/v1): every alert that names the
//   entity, as subject or linked, keyed by the entity. Still written once
//   per erasure, for the alerts whose ids no state holds any more (older
//   episodes, expired state); a re-issued alert no longer names the entity,
//   so it is never caught by it.
//
// `at` is the erasure request's time, so a replay or a crash-restart writes
// the same bytes.
#pragma once

#include <string>
#include <string_view>

#include "operators/model/model.h"
#include "stream/time.h"

namespace mozaiek {

inline constexpr std::string_view kAlertWithdrawalSchema = "mozaiek.alert-withdrawal/v1";
inline constexpr std::string_view kAlertWithdrawalSchemaV2 = "mozaiek.alert-withdrawal/v2";

struct AlertWithdrawal {
  // v2: the one alert withdrawn, its rule and what replaces it ("" for
  // none). Empty alert_id: a v1 record about the subject below.
  std::string alert_id;
  std::string rule;
  std::string reissued_as;
  // v1 only: the erased entity (a person's pseudonym, a plate, a location id).
  SubjectType subject_type = SubjectType::person;
  std::string subject_key;
  std::string reason = "erasure";  // the only reason so far
  ProcTime at{};                   // when the erasure was requested

  bool per_alert() const { return !alert_id.empty(); }
};

// Appends the JSON document to `out`: v2 for a per-alert withdrawal, v1
// otherwise.
void write_withdrawal_json(const AlertWithdrawal& w, std::string& out);

// True, filling `out`, when `json` is a withdrawal record (v1 with a known
// subject type and a key, or v2 with an alert id); false for anything else
// (an alert, say).
[[nodiscard]] bool read_withdrawal_json(std::string_view json, AlertWithdrawal& out);

// The Kafka key of the record: the alert id (v2) or "<type>:<key>" (v1).
void withdrawal_key(const AlertWithdrawal& w, std::string& out);

}  // namespace mozaiek
