#include "operators/linking/entity_view.h"

#include <cmath>

#include "operators/records/alert_json.h"
#include "stream/json_writer.h"

namespace mozaiek {

void write_entity_json(SubjectType type, std::string_view key, EventTime at,
                       const ConvergenceScorer::SubjectView* scores,
                       const LinkTracker::EntityView* links, const OperatorConfig& config,
                       std::string& out) {
  const double own = scores ? scores->score : 0.0;
  const double lift = links ? links->lift : 0.0;
  JsonWriter w(out);
  w.begin_object();
  w.key("schema").string(kEntitySchema);
  w.key("subject").begin_object();
  w.key("type").string(to_string(type));
  w.key("key").string(key);
  if (type == SubjectType::person)
    w.key("pseudonym_key_version").integer(config.pseudonym_key_version);
  w.end_object();
  w.key("found").boolean(true);
  w.key("at").timestamp(to_ms(at));
  w.key("score").number(std::round(own * 1000.0) / 1000.0, 3);
  w.key("lift").number(lift, 3);
  w.key("lifted_score").number(std::round((own + lift) * 1000.0) / 1000.0, 3);
  w.key("contributions").begin_array();
  if (scores) {
    for (const auto& c : scores->contributions) write_contribution_json(w, c, config);
  }
  w.end_array();
  w.key("links").begin_array();
  if (links) {
    for (const auto& l : links->links) {
      w.begin_object();
      w.key("type").string(to_string(l.type));
      w.key("key").string(l.key);
      w.key("first_seen").timestamp(to_ms(l.first_seen));
      w.key("last_seen").timestamp(to_ms(l.last_seen));
      w.key("live").boolean(l.live);
      w.key("sources").begin_array();
      for (const auto& s : l.sources) w.string(s);
      w.end_array();
      w.key("via").begin_array();
      for (const auto& id : l.via) w.string(id);
      w.end_array();
      w.key("their_score");
      if (l.their_score) {
        w.number(*l.their_score, 3);
      } else {
        w.null();
      }
      w.key("they_have_own_signals").boolean(l.they_have_own_signals);
      w.end_object();
    }
  }
  w.end_array();
  w.key("organisations").begin_array();
  if (links) {
    for (const auto& o : links->organisations) w.string(o);
  }
  w.end_array();
  w.key("alerts").begin_array();
  if (scores) {
    for (const auto& id : scores->alert_ids) w.string(id);
  }
  if (links) {
    for (const auto& id : links->alert_ids) w.string(id);
  }
  w.end_array();
  w.end_object();
}

}  // namespace mozaiek
