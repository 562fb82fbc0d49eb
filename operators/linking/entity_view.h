// The entity view (schema "mozaiek.entity/v1"): for one subject, its own
// convergence score and contributions, its links with what the linked
// entities last told it, the lift (persons), and the alerts it took part
// in. Persons appear only by pseudonym (their keys are pseudonyms).
// Rendered by the service's GET /api/entities/<type>/<key> and by
// `mozaiek replay --entity`. Stateless; thread-safe.
#pragma once

#include <string>

#include "operators/convergence/convergence_scorer.h"
#include "operators/linking/link_tracker.h"

namespace mozaiek {

inline constexpr std::string_view kEntitySchema = "mozaiek.entity/v1";

// Either part may be null (the subject has no convergence state or no links).
void write_entity_json(SubjectType type, std::string_view key, EventTime at,
                       const ConvergenceScorer::SubjectView* scores,
                       const LinkTracker::EntityView* links, const OperatorConfig& config,
                       std::string& out);

}  // namespace mozaiek
