// The alert withdrawal record v1 (schema mozaiek.alert-withdrawal/v1, see
// config/schemas/alert-withdrawal.v1.json): written on the alerts topic by
// ConvergenceStage::process_erasure when an entity is erased, keyed by the
// entity's routing key ("<type>:<key>"). It withdraws every alert that names
// the entity, as its subject or as a linked entity: a consumer drops those
// alerts (mozaiek's own feed, API, console and live stream do). Alerts that
// named the entity only as a link are withdrawn, not re-issued without it.
//
// One record per erasure, not one per alert id: the scorer's state does not
// keep the ids it raised, and a subject-wide record also covers alerts of
// the entity that state has already expired. `at` is the erasure request's
// time, so a replay or a crash-restart writes the same bytes.
#pragma once

#include <string>
#include <string_view>

#include "operators/model/model.h"
#include "stream/time.h"

namespace mozaiek {

inline constexpr std::string_view kAlertWithdrawalSchema = "mozaiek.alert-withdrawal/v1";

struct AlertWithdrawal {
  SubjectType subject_type = SubjectType::person;
  std::string subject_key;         // a person's pseudonym, a plate, a location id
  std::string reason = "erasure";  // the only reason so far
  ProcTime at{};                   // when the erasure was requested
};

// Appends the JSON document to `out`.
void write_withdrawal_json(const AlertWithdrawal& w, std::string& out);

// True, filling `out`, when `json` is a withdrawal record v1 with a known
// subject type and a key; false for anything else (an alert, say).
[[nodiscard]] bool read_withdrawal_json(std::string_view json, AlertWithdrawal& out);

}  // namespace mozaiek
