// Deterministic alert ids: the same subject, rule, episode and level give the
// same id on every replay, so a re-raised alert after a crash deduplicates
// downstream (the alerts topic is keyed by it).
#pragma once

#include <cstdint>
#include <string_view>

#include "operators/convergence/subject_state.h"
#include "operators/model/model.h"

namespace mozaiek::convergence {

// First 32 hex digits of SHA-256("<rule>|<type>|<key>|<episode start ms>|<level>").
AlertIdText make_alert_id(std::string_view rule, SubjectType type, std::string_view key,
                          std::int64_t episode_start_ms, int level);
// The same for subject types outside SubjectType ("melding").
AlertIdText make_alert_id(std::string_view rule, std::string_view type, std::string_view key,
                          std::int64_t episode_start_ms, int level);

// The id of the alert that replaces `alert_id` after an erasure took an
// entity out of it: make_alert_id("reissued", "alert", alert_id, 0, 0), so a
// replay or a crash-restart re-issues under the same id, and re-issuing it
// again (a second erasure) gives yet another.
AlertIdText reissued_alert_id(std::string_view alert_id);

}  // namespace mozaiek::convergence
