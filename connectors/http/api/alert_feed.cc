#include "connectors/http/api/alert_feed.h"

#include <simdjson.h>

#include <algorithm>

#include "stream/json_writer.h"
#include "stream/time.h"

namespace mozaiek {
namespace {

constexpr std::string_view kStatusKey = R"("status":")";

std::string entity_name(std::string_view type, std::string_view key) {
  std::string out;
  out.reserve(type.size() + 1 + key.size());
  out.append(type).append(1, ':').append(key);
  return out;
}

}  // namespace

AlertFeed::AlertFeed(std::size_t capacity, std::size_t pending_capacity)
    : capacity_(std::max<std::size_t>(capacity, 1)),
      pending_capacity_(std::max<std::size_t>(pending_capacity, 1)) {}

bool AlertFeed::publish(const std::string& alert_json) {
  Held h;
  {
    // One parser per publishing thread (the convergence loop, the topic
    // reader): its buffers are reused instead of allocated per alert.
    thread_local simdjson::dom::parser parser;
    simdjson::padded_string padded(alert_json);
    simdjson::dom::object doc;
    std::string_view id;
    if (parser.parse(padded).get(doc) || doc["alert_id"].get(id) || id.empty()) return false;
    h.alert_id.assign(id);
    if (doc["level"].get(h.level) != simdjson::SUCCESS) h.level = 0;
    std::string_view raised;
    if (doc["raised_at"].get(raised) == simdjson::SUCCESS) {
      if (auto t = parse_rfc3339(raised)) h.raised_ms = to_ms(*t);
    }
    std::string_view type, key;
    if (!doc["subject"]["type"].get(type) && !doc["subject"]["key"].get(key)) {
      h.names.push_back(entity_name(type, key));
    }
    simdjson::dom::array linked;
    if (!doc["linked"].get(linked)) {
      for (auto item : linked) {
        if (!item["type"].get(type) && !item["key"].get(key)) {
          h.names.push_back(entity_name(type, key));
        }
      }
    }
  }
  // Split around the top-level status. A string value cannot hold the key
  // pattern (its quotes would be escaped), and no nested member is called
  // status, so the last match is the alert's own.
  const std::size_t key = alert_json.rfind(kStatusKey);
  const std::size_t value = key == std::string::npos ? key : key + kStatusKey.size();
  const std::size_t close = value == std::string::npos ? value : alert_json.find('"', value);
  const std::size_t end = alert_json.rfind('}');
  if (close != std::string::npos && close < end) {
    h.head.assign(alert_json, 0, key);
    h.raised_status.assign(alert_json, value, close - value);
    h.tail.assign(alert_json, close + 1, end - close - 1);
  } else {
    // No status member: served with status "new" after its other members.
    h.head.assign(alert_json, 0, end);
    if (h.head.find_first_not_of(" \t\r\n{") != std::string::npos) h.head += ',';
    h.raised_status = "new";
  }

  std::string rendered;
  {
    std::lock_guard lock(mu_);
    if (names_withdrawn(h)) return false;
    if (auto it = by_id_.find(h.alert_id); it != by_id_.end()) {
      Held& old = *it->second;
      // The copy read back from the alerts topic, or an older level of an
      // alert escalated since (this instance published both before reading).
      if (h.level < old.level ||
          (old.head == h.head && old.tail == h.tail && old.raised_status == h.raised_status)) {
        return false;
      }
      h.actions = std::move(old.actions);
      // The same level raised again (reprocessing after a crash) keeps the
      // first time it was raised: only a higher level reopens an alert.
      constexpr std::int64_t kUnknown = std::numeric_limits<std::int64_t>::min();
      if (h.level == old.level && old.raised_ms != kUnknown &&
          (h.raised_ms == kUnknown || old.raised_ms < h.raised_ms)) {
        h.raised_ms = old.raised_ms;
      }
      alerts_.erase(it->second);
      by_id_.erase(it);
    }
    if (auto p = pending_.find(h.alert_id); p != pending_.end()) {
      for (const auto& a : p->second.actions) add_action(h.actions, a);
      pending_count_ -= p->second.actions.size();
      pending_.erase(p);
    }
    alerts_.push_front(std::move(h));
    by_id_[alerts_.front().alert_id] = alerts_.begin();
    if (alerts_.size() > capacity_) {
      by_id_.erase(alerts_.back().alert_id);
      alerts_.pop_back();
    }
    render(alerts_.front(), rendered);
    push_event(EventKind::alert, std::move(rendered));
  }
  cv_.notify_all();
  return true;
}

AlertFeed::Applied AlertFeed::apply(const AlertAction& action) {
  {
    std::lock_guard lock(mu_);
    if (auto it = by_id_.find(action.alert_id); it != by_id_.end()) {
      if (!add_action(it->second->actions, action)) return Applied::duplicate;
      std::string record;
      write_action_json(action, record);
      push_event(EventKind::action, std::move(record));
    } else {
      auto [p, fresh] = pending_.try_emplace(action.alert_id);
      if (fresh) {
        p->second.order = ++pending_seq_;
        pending_order_.emplace_back(p->second.order, action.alert_id);
      }
      if (!add_action(p->second.actions, action)) return Applied::duplicate;
      ++pending_count_;
      // Over the bound: forget the alert ids waiting longest (never the one
      // just added).
      while (pending_count_ > pending_capacity_ && pending_order_.size() > 1) {
        auto [order, id] = std::move(pending_order_.front());
        pending_order_.pop_front();
        auto old = pending_.find(id);
        if (old == pending_.end() || old->second.order != order) continue;  // applied since
        pending_count_ -= old->second.actions.size();
        pending_.erase(old);
      }
      // Alerts that arrived leave their ids behind in the order; drop them.
      while (!pending_order_.empty()) {
        auto old = pending_.find(pending_order_.front().second);
        if (old != pending_.end() && old->second.order == pending_order_.front().first) break;
        pending_order_.pop_front();
      }
      return Applied::pending;
    }
  }
  cv_.notify_all();
  return Applied::applied;
}

bool AlertFeed::add_action(std::vector<AlertAction>& actions, const AlertAction& a) {
  for (const auto& held : actions) {
    if (held.action_id == a.action_id) return false;
  }
  // By time; equal times keep the order they were applied in.
  auto pos = std::upper_bound(actions.begin(), actions.end(), a.at,
                              [](ProcTime t, const AlertAction& x) { return t < x.at; });
  actions.insert(pos, a);
  return true;
}

void AlertFeed::push_event(EventKind kind, std::string json) {
  events_.push_back(Entry{++last_sequence_, kind, std::move(json)});
  if (events_.size() > capacity_) events_.pop_front();
}

void AlertFeed::render(const Held& h, std::string& out) const {
  out += h.head;
  out += R"("status":)";
  // The latest word wins: an analyst's action, or an escalation the scorer
  // raised after it (new evidence reopens a dismissed or acknowledged
  // alert). Every instance computes the same from the same records.
  const bool raised_last = h.actions.empty() || h.raised_ms > to_ms(h.actions.back().at);
  JsonWriter::append_string(out, raised_last ? std::string_view(h.raised_status)
                                             : status_after(h.actions.back().action));
  out += h.tail;
  out += R"(,"actions":)";
  JsonWriter w(out);
  w.begin_array();
  for (const auto& a : h.actions) write_action_entry(w, a);
  w.end_array();
  out += '}';
}

bool AlertFeed::names_withdrawn(const Held& h) const {
  if (withdrawn_.count(entity_name("alert", h.alert_id)) > 0) return true;
  return std::any_of(h.names.begin(), h.names.end(),
                     [&](const std::string& n) { return withdrawn_.count(n) > 0; });
}

std::size_t AlertFeed::withdraw(std::string_view subject_type, std::string_view subject_key,
                                std::string_view reason) {
  const std::string name = entity_name(subject_type, subject_key);
  return drop(name, reason, [&](const Held& h) {
    return std::find(h.names.begin(), h.names.end(), name) != h.names.end();
  });
}

std::size_t AlertFeed::withdraw_alert(std::string_view alert_id, std::string_view reason) {
  return drop(entity_name("alert", alert_id), reason,
              [&](const Held& h) { return h.alert_id == alert_id; });
}

template <class Pred>
std::size_t AlertFeed::drop(const std::string& remembered, std::string_view reason, Pred matches) {
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    if (withdrawn_.insert(remembered).second) {
      withdrawn_order_.push_back(remembered);
      if (withdrawn_order_.size() > capacity_) {
        withdrawn_.erase(withdrawn_order_.front());
        withdrawn_order_.pop_front();
      }
    }
    std::vector<std::string> gone;  // "alert_id":"<id>" of each alert dropped
    for (auto it = alerts_.begin(); it != alerts_.end();) {
      if (!matches(*it)) {
        ++it;
        continue;
      }
      std::string& g = gone.emplace_back(R"("alert_id":)");
      JsonWriter::append_string(g, it->alert_id);
      by_id_.erase(it->alert_id);
      it = alerts_.erase(it);
    }
    // Earlier events showing these alerts or actions on them are no longer
    // served to a stream that resumes: they would name the entity again.
    events_.erase(std::remove_if(events_.begin(), events_.end(),
                                 [&](const Entry& e) {
                                   return std::any_of(gone.begin(), gone.end(),
                                                      [&](const std::string& g) {
                                                        return e.json.find(g) != std::string::npos;
                                                      });
                                 }),
                  events_.end());
    for (const auto& g : gone) {
      std::string event = "{" + g + R"(,"reason":)";
      JsonWriter::append_string(event, reason);
      event += '}';
      push_event(EventKind::withdrawn, std::move(event));
    }
    dropped = gone.size();
  }
  if (dropped > 0) cv_.notify_all();
  return dropped;
}

bool AlertFeed::contains(std::string_view alert_id) const {
  std::lock_guard lock(mu_);
  return by_id_.count(std::string(alert_id)) > 0;
}

std::vector<std::string> AlertFeed::recent(std::size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(std::min(limit, alerts_.size()));
  for (auto it = alerts_.begin(); it != alerts_.end() && out.size() < limit; ++it) {
    render(*it, out.emplace_back());
  }
  return out;
}

std::uint64_t AlertFeed::last_sequence() const {
  std::lock_guard lock(mu_);
  return last_sequence_;
}

std::size_t AlertFeed::pending_actions() const {
  std::lock_guard lock(mu_);
  return pending_count_;
}

std::vector<AlertFeed::Entry> AlertFeed::wait_after(std::uint64_t after,
                                                    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  const std::uint64_t epoch = wake_epoch_;
  cv_.wait_for(lock, timeout, [&] { return last_sequence_ > after || wake_epoch_ != epoch; });
  std::vector<Entry> out;
  for (const auto& e : events_) {
    if (e.sequence > after) out.push_back(e);
  }
  return out;
}

void AlertFeed::wake_all() {
  {
    std::lock_guard lock(mu_);
    ++wake_epoch_;
  }
  cv_.notify_all();
}

}  // namespace mozaiek
