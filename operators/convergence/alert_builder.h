// AlertBuilder: the one place an Alert is filled, for the convergence,
// network (linking) and oversight rules. It sets the identity (the
// deterministic alert id, rule, subject, level, status, raised_at) in one
// call, then what each rule knows: score, contributions, sources, first and
// last seen, detection delay, chain events. finish() leaves the sources
// sorted and distinct, as the alert document promises.
//
// Made on the stack per alert, on the thread raising it; borrows the config
// and the alert.
#pragma once

#include <cstdint>
#include <string_view>

#include "operators/model/model.h"
#include "stream/time.h"

namespace mozaiek::convergence {

// Scores in alerts are rounded to three decimals.
double round_score(double v);

class AlertBuilder {
 public:
  AlertBuilder(const OperatorConfig& config, Alert& alert) : config_(config), a_(alert) {}

  // alert_id = make_alert_id(rule, type, key, episode_start_ms, level).
  AlertBuilder& open(std::string_view rule, SubjectType type, std::string_view key,
                     std::int64_t episode_start_ms, int level, ProcTime raised_at);
  // A subject outside SubjectType ("melding"): subject_kind is set; level 0.
  AlertBuilder& open(std::string_view rule, std::string_view kind, std::string_view key,
                     std::int64_t episode_start_ms, ProcTime raised_at);
  // Purpose of the alert; open() sets investigation.
  AlertBuilder& purpose(Purpose p) {
    a_.purpose = p;
    return *this;
  }

  AlertBuilder& score(double s) {
    a_.score = s;
    return *this;
  }
  AlertBuilder& seen(EventTime first, EventTime last) {
    a_.first_seen = first;
    a_.last_seen = last;
    return *this;
  }
  // The detection delay: how much later than last_seen the newest piece was
  // reported (never negative). Call after seen().
  AlertBuilder& reported(EventTime latest);
  // An organisation behind the alert (kept once).
  AlertBuilder& source(std::string_view name);
  AlertBuilder& event(AlertEvent e);

  // Appends an empty contribution for the caller to fill.
  Contribution& contribution() { return a_.contributions.emplace_back(); }
  bool has_contribution(SourceId source, std::string_view signal_id) const;
  // By (observed_at, signal_id).
  AlertBuilder& sort_contributions();
  // Sources, first and last seen (the first and last contribution) and the
  // detection delay from the contributions; nothing when there are none.
  AlertBuilder& summarise_contributions();

  // Sorts the sources; returns the alert.
  Alert& finish();
  Alert& alert() { return a_; }

 private:
  const OperatorConfig& config_;
  Alert& a_;
};

}  // namespace mozaiek::convergence
