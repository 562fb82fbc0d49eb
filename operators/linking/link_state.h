// The linking layer's state of one entity (person, vehicle or location) on
// its own partition: its links to other entities, what those told it in
// notices, the organisations seen at it (locations), and the alert state of
// the network rules. Stored per entity under "<type>:<key>" in the
// partition's "links-p<N>" store; the codec here is the only code that
// reads or writes those bytes.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operators/convergence/episode.h"
#include "operators/model/model.h"

namespace mozaiek::linking {

inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min() / 2;

// The kind of a link by the types of its ends, for metric labels.
inline constexpr std::size_t kLinkTypeCount = 6;
inline constexpr std::array<std::string_view, kLinkTypeCount> kLinkTypeNames{
    "person_person",   "person_vehicle",   "person_location",
    "vehicle_vehicle", "vehicle_location", "location_location"};
std::size_t link_type_index(SubjectType a, SubjectType b);

// One signal behind a link (or seen at a location).
struct LinkSignal {
  std::string signal_id;
  SourceId source = 0;
  IndicatorId indicator = 0;
  std::int64_t observed_ms = 0;
  std::int64_t reported_ms = 0;
};

// A score the linked entity told at an event time.
struct PeerNotice {
  std::int64_t at_ms = 0;
  double score = 0;
};

struct Link {
  SubjectType type = SubjectType::person;
  std::string key;
  std::int64_t first_ms = 0;  // observed_at of the oldest and newest signal naming both
  std::int64_t last_ms = 0;
  std::vector<LinkSignal> signals;  // oldest first, the newest max_link_signals
  // The linked entity's last score notice (kNever: none yet).
  std::int64_t peer_at_ms = kNever;
  double peer_score = 0;
  bool peer_has_own = false;
  std::vector<SourceId> peer_sources;
  // Score notices before the last one, oldest first and at most
  // kMaxEarlierNotices (kept at persons only): a signal that arrives late is
  // evaluated at the times the pieces would have met had it come on time, in
  // whatever order the notices were delivered.
  std::vector<PeerNotice> earlier_notices;
  // Whether this end told the other it has signals of its own.
  bool told_own = false;
  // A location a signal naming both marked as a reception centre (its
  // `kind`): counted as one by pickup_van whatever its id.
  bool reception = false;
};

inline constexpr std::size_t kMaxEarlierNotices = 7;

// The linked entity's score as last told at or before `at`, and when it was
// told; nullopt when nothing was told by then.
std::optional<PeerNotice> peer_notice_at(const Link& l, std::int64_t at);

// Records a score notice told at `at`: the newest becomes the last one, an
// older one (a late or redelivered notice) joins the earlier ones in order;
// one at a time already known replaces it. `keep_earlier` false keeps only
// the newest. Returns false for a notice older than every one kept.
bool record_peer_notice(Link& l, PeerNotice notice, bool keep_earlier);

// Per network rule: the same episode state as a convergence subject's.
using RuleAlertState = convergence::EpisodeHistory;

enum RuleSlot : std::size_t { kPickupVan = 0, kLinkedPersons = 1, kHotspot = 2, kLift = 3 };
inline constexpr std::size_t kRuleSlots = 4;

struct EntityLinks {
  std::vector<Link> links;
  std::vector<LinkSignal> sources_seen;  // locations: the newest signal per organisation
  double noticed_score = 0;              // own score last sent to linked entities
  std::array<RuleAlertState, kRuleSlots> rules{};
  std::vector<std::string> alert_ids;  // network alerts on or listing this entity, newest last

  bool empty() const { return links.empty() && sources_seen.empty() && alert_ids.empty(); }
};

// The binary form of an entity, the only code that reads or writes those
// bytes. Sources and indicators are stored by name, so a config with
// reordered sources or catalogue still reads them; entries naming unknown
// ones are dropped. Version 3 writes each name once per entity (a table up
// front, entries refer to it by position) and a link's earlier notices.
// Versions 2 (no earlier notices) and 1 (every name in full at every entry)
// are still read, so state written before stays readable.
// Holds scratch tables: one codec per thread.
class LinkCodec {
 public:
  explicit LinkCodec(const OperatorConfig& config);
  void encode(const EntityLinks& e, std::string& out);
  [[nodiscard]] bool decode(std::string_view bytes, EntityLinks& out);

 private:
  std::uint64_t source_slot(SourceId s);
  std::uint64_t indicator_slot(IndicatorId i);

  const OperatorConfig& config_;
  // Encoding: position in this entity's table + 1 by id (0: not yet in
  // it), and the ids in table order.
  std::vector<std::uint32_t> source_pos_, indicator_pos_;
  std::vector<SourceId> sources_;
  std::vector<IndicatorId> indicators_;
  // Decoding: id by table position (nullopt: unknown to this config).
  std::vector<std::optional<SourceId>> read_sources_;
  std::vector<std::optional<IndicatorId>> read_indicators_;
};

// One-off conveniences over a LinkCodec (tests, tools).
void encode_links(const EntityLinks& e, const OperatorConfig& config, std::string& out);
[[nodiscard]] bool decode_links(std::string_view bytes, const OperatorConfig& config,
                                EntityLinks& out);

}  // namespace mozaiek::linking
