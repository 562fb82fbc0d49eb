// AlertFeed: the recent alerts kept in memory for the HTTP API, each with
// its current status and the analysts' actions on it, and a wake-up for
// live streams.
//
// Thread-safe. The convergence loop publishes the alerts it raises; the
// alert-topics reader publishes the alerts and applies the actions it reads
// back from Kafka (so every instance, and a restarted one, holds the same);
// the actions API applies an action once it is written. HTTP handler
// threads read recent() and block in wait_after() for the Server-Sent
// Events stream.
//
// One entry per alert id: a re-raised alert (an escalation) replaces the
// held one and keeps its actions. An alert's status is the one it was
// raised with (new, escalated) until an action is applied, then the status
// the latest action (by its time) leaves: acknowledged, dismissed or
// escalated. Actions for an alert not held yet are kept, up to
// `pending_capacity` actions (oldest alert ids dropped first), and applied
// when it arrives. Every change is an event with a sequence number (1, 2,
// ...), so a stream can resume where it left off (the SSE event id).
//
// Withdrawal (operators/records/alert_withdrawal.h): withdraw_alert()
// drops one alert by id (record v2), withdraw() every held alert that names
// an erased entity, as subject or as a linked entity (record v1), each with
// a `withdrawn` event per alert; the feed keeps the id or entity (the last
// `capacity` withdrawn) so a copy read back later, or an alert naming the
// entity arriving from another partition, is refused too. A re-issued
// alert has an id of its own and no longer names the entity.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "connectors/http/api/alert_action.h"

namespace mozaiek {

class AlertFeed {
 public:
  enum class EventKind { alert, action, withdrawn };
  struct Entry {
    std::uint64_t sequence = 0;
    EventKind kind = EventKind::alert;
    // alert: the alert as served (with status and actions); action: the
    // action record v1; withdrawn: {"alert_id":...,"reason":...}.
    std::string json;
  };
  enum class Applied { applied, duplicate, pending };

  explicit AlertFeed(std::size_t capacity = 1000, std::size_t pending_capacity = 10000);
  AlertFeed(const AlertFeed&) = delete;
  AlertFeed& operator=(const AlertFeed&) = delete;

  // Keeps the alert (an alert v1 object with an alert_id), dropping the
  // oldest beyond capacity, applies actions held for it and wakes streams.
  // Returns false, changing nothing, when the same alert or a higher level
  // of it is held already (the copy read back from the alerts topic) or it
  // has no alert_id.
  bool publish(const std::string& alert_json);

  // Applies an action to its alert, or keeps it until the alert arrives.
  // An action id seen before changes nothing.
  Applied apply(const AlertAction& action);

  // Drops the alerts naming the entity (subject_type: "person", "vehicle",
  // "location"), one withdrawn event each, and refuses later alerts naming
  // it. Returns how many alerts were dropped.
  std::size_t withdraw(std::string_view subject_type, std::string_view subject_key,
                       std::string_view reason = "erasure");
  // Drops the alert with this id (a withdrawal record v2), with a withdrawn
  // event, and refuses it if it comes again. Returns 1 if it was held.
  std::size_t withdraw_alert(std::string_view alert_id, std::string_view reason = "erasure");

  // Whether an alert with this id is held.
  bool contains(std::string_view alert_id) const;

  // Up to `limit` most recent alerts, newest first, each with its current
  // status and its actions (oldest first).
  std::vector<std::string> recent(std::size_t limit) const;

  // Sequence number of the newest event; 0 before the first.
  std::uint64_t last_sequence() const;

  // Events with a sequence number > `after`, oldest first (only those still
  // held). Waits up to `timeout` for one when there is none yet; returns
  // early, possibly empty, after wake_all().
  std::vector<Entry> wait_after(std::uint64_t after, std::chrono::milliseconds timeout) const;

  // Makes every waiting reader return now (used when the server stops).
  void wake_all();

  std::size_t capacity() const { return capacity_; }
  // Actions waiting for their alert.
  std::size_t pending_actions() const;

 private:
  // An alert split around its status value, so it can be served with
  // another status and its actions without parsing it again.
  struct Held {
    std::string alert_id;
    std::string head;           // up to the "status" member
    std::string tail;           // after the status value, without the closing brace
    std::string raised_status;  // as raised: new or escalated
    std::int64_t level = 0;     // 0 as first raised, then each escalation
    // raised_at of this level in ms (the minimum when unknown): a level
    // raised after the latest action reopens the alert as escalated.
    std::int64_t raised_ms = std::numeric_limits<std::int64_t>::min();
    std::vector<AlertAction> actions;  // by time, oldest first
    std::vector<std::string> names;    // "<type>:<key>" of the subject and each linked entity
  };
  struct Pending {
    std::uint64_t order = 0;
    std::vector<AlertAction> actions;
  };

  void render(const Held& h, std::string& out) const;
  void push_event(EventKind kind, std::string json);
  bool names_withdrawn(const Held& h) const;
  // Remembers `remembered` as withdrawn and drops the held alerts matching.
  template <class Pred>
  std::size_t drop(const std::string& remembered, std::string_view reason, Pred matches);
  static bool add_action(std::vector<AlertAction>& actions, const AlertAction& a);

  const std::size_t capacity_;
  const std::size_t pending_capacity_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::list<Held> alerts_;  // newest first
  std::unordered_map<std::string, std::list<Held>::iterator> by_id_;
  std::unordered_map<std::string, Pending> pending_;
  std::deque<std::pair<std::uint64_t, std::string>> pending_order_;  // oldest first
  std::uint64_t pending_seq_ = 0;
  std::size_t pending_count_ = 0;
  std::deque<Entry> events_;
  std::uint64_t last_sequence_ = 0;
  std::uint64_t wake_epoch_ = 0;
  std::unordered_set<std::string> withdrawn_;  // "<type>:<key>" of withdrawn entities, "alert:<id>"
  std::deque<std::string> withdrawn_order_;    // the same, oldest first
};

}  // namespace mozaiek
