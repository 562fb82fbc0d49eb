// Erasure requests: the request parsing shared by POST /api/erasure and
// `mozaiek erase`, the erasure record and notice encodings, and the effect
// at the owning partition and at the other ends, through the real intake
// and entity stages (no broker), each subject type on its own partition.
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <deque>
#include <map>

#include "connectors/app/metrics_bridge.h"
#include "operators/erasure/erasure_request.h"
#include "operators/oversight/oversight_records.h"
#include "operators/pipeline/convergence_stage.h"
#include "operators/pipeline/intake_stage.h"
#include "operators/records/alert_withdrawal.h"
#include "operators/records/entity_notice.h"
#include "operators/records/erasure_record.h"
#include "operators/records/internal_record.h"
#include "stream/json_writer.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek {
namespace {

constexpr const char* kKey = "erasure-test-key-0123456789";

// ---- request parsing --------------------------------------------------------

class ErasureRequestTest : public ::testing::Test {
 protected:
  std::optional<ErasureFieldError> parse(const std::string& body, const std::string& user = "ana") {
    request = ErasureRequest{};
    return parse_erasure_json(body, user, pseudonymiser, request);
  }
  // The field a bad body is refused for ("" when accepted).
  std::string refused(const std::string& body, const std::string& user = "ana") {
    auto e = parse(body, user);
    return e ? e->field : "";
  }
  Pseudonymiser pseudonymiser{kKey};
  ErasureRequest request;
};

TEST_F(ErasureRequestTest, PersonByRawIdIsPseudonymisedExactlyAsIntakeDoes) {
  ASSERT_FALSE(parse(R"({"type":"person","id":" 2213.456-789 ","id_scheme":" V-Number ",)"
                     R"("reason":"AVG-2026-17"})"));
  std::string expected;
  pseudonymiser.pseudonymise("v-number", "2213456789", expected);
  EXPECT_EQ(request.type, SubjectType::person);
  EXPECT_EQ(request.key, expected);
  EXPECT_EQ(request.user, "ana");
  EXPECT_EQ(request.reason, "AVG-2026-17");

  // The same person through intake: one pseudonym.
  struct Keys final : IntakeOutput {
    void on_routed(const RoutedSignal& r) override { keys.push_back(r.subject_key); }
    void on_routed_chain(const RoutedChainEvent&) override {}
    void on_rejected(const Rejection& r, const RecordView&) override {
      ADD_FAILURE() << "rejected: " << to_string(r.reason) << " " << r.detail;
    }
    std::vector<std::string> keys;
  } out;
  const Settings settings = test::shipped_settings();
  ManualClock clock;
  IntakeStage intake(settings.operators, pseudonymiser, clock, "signals.", out);
  RecordView v;
  v.topic = "signals.coa";
  const std::string json =
      R"({"schema":"mozaiek.signal/v1","signal_id":"s1","source":"coa",)"
      R"("observed_at":"2023-10-01T10:00:00Z","reported_at":"2023-10-01T12:00:00Z",)"
      R"("indicator":"behaviour_change","subjects":[{"type":"person","id":"2213456789",)"
      R"("id_scheme":"v-number"}]})";
  v.value = json;
  intake.process(v);
  ASSERT_EQ(out.keys.size(), 1u);
  EXPECT_EQ(out.keys[0], request.key);
}

TEST_F(ErasureRequestTest, PersonByPseudonymVehicleByNormalisedPlateLocationByNormalisedId) {
  const std::string pseudonym(64, 'a');
  ASSERT_FALSE(parse(R"({"type":"person","key":")" + pseudonym + R"(","reason":"r"})"));
  EXPECT_EQ(request.key, pseudonym);
  ASSERT_FALSE(parse(R"({"type":"vehicle","plate":"ab-123-cd","country":"F","reason":"r"})"));
  EXPECT_EQ(request.type, SubjectType::vehicle);
  EXPECT_EQ(request.key, "FR-AB123CD");
  ASSERT_FALSE(parse(R"({"type":"vehicle","plate":"wx 987 z","reason":"r"})"));
  EXPECT_EQ(request.key, "XX-WX987Z");
  ASSERT_FALSE(parse(R"({"type":"location","id":" COA Ter Apel ","reason":"r"})"));
  EXPECT_EQ(request.type, SubjectType::location);
  EXPECT_EQ(request.key, "coa-ter-apel");
}

TEST_F(ErasureRequestTest, EachBadFieldIsNamedAndNoValueIsQuoted) {
  EXPECT_EQ(refused("not json"), "body");
  EXPECT_EQ(refused("[1]"), "body");
  EXPECT_EQ(refused(R"({"id":"1","id_scheme":"bsn","reason":"r"})"), "type");
  EXPECT_EQ(refused(R"({"type":"ship","id":"1","reason":"r"})"), "type");
  EXPECT_EQ(refused(R"({"type":7,"reason":"r"})"), "type");
  EXPECT_EQ(refused(R"({"type":"person","id_scheme":"bsn","reason":"r"})"), "id");
  EXPECT_EQ(refused(R"({"type":"person","id":"123456789","reason":"r"})"), "id_scheme");
  EXPECT_EQ(refused(R"({"type":"person","id":"123456789","id_scheme":"b:sn","reason":"r"})"),
            "id_scheme");
  EXPECT_EQ(refused(R"({"type":"person","id":" .- ","id_scheme":"bsn","reason":"r"})"), "id");
  EXPECT_EQ(refused(R"({"type":"person","key":"123456789","reason":"r"})"), "key");
  EXPECT_EQ(refused(R"({"type":"person","key":")" + std::string(64, 'A') + R"(","reason":"r"})"),
            "key");
  EXPECT_EQ(refused(R"({"type":"person","key":")" + std::string(64, 'a') +
                    R"(","id":"1","reason":"r"})"),
            "id");
  EXPECT_EQ(refused(R"({"type":"person","id":"1","id_scheme":"bsn","plate":"AB12","reason":"r"})"),
            "plate");
  EXPECT_EQ(refused(R"({"type":"vehicle","reason":"r"})"), "plate");
  EXPECT_EQ(refused(R"({"type":"vehicle","plate":"AB/12/CD","reason":"r"})"), "plate");
  EXPECT_EQ(refused(R"({"type":"vehicle","plate":"AB12","id":"x","reason":"r"})"), "id");
  EXPECT_EQ(refused(R"({"type":"location","reason":"r"})"), "id");
  EXPECT_EQ(refused(R"({"type":"location","id":"coa/ter apel","reason":"r"})"), "id");
  EXPECT_EQ(refused(R"({"type":"location","id":"coa-budel","country":"NL","reason":"r"})"),
            "country");
  EXPECT_EQ(refused(R"({"type":"location","id":"coa-budel"})"), "reason");
  EXPECT_EQ(refused(R"({"type":"location","id":"coa-budel","reason":""})"), "reason");
  EXPECT_EQ(refused(R"({"type":"location","id":"coa-budel","reason":")" + std::string(513, 'x') +
                    R"("})"),
            "reason");
  EXPECT_EQ(refused(R"({"type":"location","id":"coa-budel","reason":"r"})", ""), "user");
  EXPECT_EQ(refused(R"({"type":"location","id":"coa-budel","reason":"r","note":"x"})"), "note");
  EXPECT_EQ(refused(R"({"type":"location","id":"coa-budel","reason":"r","reason":"s"})"), "reason");
  // A raw identifier never comes back in an error, even in a field name.
  auto e = parse(R"({"type":"person","id":"123456789","id_scheme":"b:sn","reason":"r"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message.find("123456789"), std::string::npos);
  EXPECT_EQ(refused(R"({"type":"location","id":"coa-budel","reason":"r","123456789":"x"})"),
            "body");
}

TEST(ErasureRecordTest, RoundTripsUnderItsOwnKindAndRejectsDamage) {
  const ErasureRecord r{SubjectType::vehicle, "FR-AB123CD", ProcTime{Millis{1'780'000'000'123}}};
  std::string bytes;
  encode_erasure(r, bytes);
  EXPECT_EQ(internal_record_kind(bytes), InternalRecordKind::erasure);
  ErasureRecord back;
  ASSERT_TRUE(decode_erasure(bytes, back));
  EXPECT_EQ(back.type, r.type);
  EXPECT_EQ(back.key, r.key);
  EXPECT_EQ(back.requested_at, r.requested_at);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_erasure(bytes.substr(0, n), back)) << n;
  }
  EXPECT_FALSE(decode_erasure(bytes + "x", back));
  std::string other_version = bytes;
  other_version[1] = 2;
  EXPECT_FALSE(decode_erasure(other_version, back));
}

TEST(ErasureRecordTest, ErasureNoticeRoundTrips) {
  EntityNotice n;
  n.from_type = SubjectType::person;
  n.from_key = std::string(64, 'b');
  n.to_type = SubjectType::location;
  n.to_key = "coa-gilze";
  n.erased = true;
  std::string bytes;
  encode_notice(n, bytes);
  EntityNotice back;
  ASSERT_TRUE(decode_notice(bytes, back));
  EXPECT_TRUE(back.erased);
  EXPECT_FALSE(back.participation);
  EXPECT_EQ(back.from_key, n.from_key);
  EXPECT_EQ(back.to_key, "coa-gilze");
  n.erased = false;
  encode_notice(n, bytes);
  ASSERT_TRUE(decode_notice(bytes, back));
  EXPECT_FALSE(back.erased);
}

// ---- the effect -------------------------------------------------------------

// Memory stores whose contents the test can read after a flush.
class VisibleStores final : public StateStoreFactory {
 public:
  std::unique_ptr<StateStore> open(std::string_view name) override {
    auto s = make_memory_store_factory()->open(name);
    stores[std::string(name)] = s.get();
    return s;
  }
  bool has(const std::string& store, const std::string& key) {
    std::string value;
    return stores.at(store)->get(key, value);
  }
  std::map<std::string, StateStore*> stores;
};

// The oversight labels with disclosure control off: these tests count
// single persons exactly (what is disclosed is oversight_metrics_test's).
OversightLabelSets exact_labels(const Settings& settings) {
  OversightLabelSets l = oversight_label_sets(settings);
  l.min_cell_size = 1;
  return l;
}

// Intake and entity stage; persons on partition 0, vehicles on 1,
// locations on 2 (as after hashing), notices delivered through their
// encoding when the test says so.
class Partitions final : public IntakeOutput, public AlertOutput {
 public:
  explicit Partitions(Settings settings)
      : settings_(std::move(settings)),
        pseudonymiser_(kKey),
        clock_(ProcTime{Millis{1'780'000'000'000}}),
        metrics_(registry_, exact_labels(settings_)),
        intake_(settings_.operators, pseudonymiser_, clock_, "signals.", *this),
        entity_(settings_.operators, stores, clock_, *this) {
    for (int p = 0; p < 3; ++p) entity_.assign(Partition{p});
    entity_.set_oversight_metrics(&metrics_);
  }
  static Partition of(SubjectType t) { return Partition{static_cast<std::int32_t>(t)}; }

  void feed(const std::string& json, const std::string& topic = "signals.coa") {
    RecordView v;
    v.topic = topic;
    v.value = json;
    intake_.process(v);
  }
  // Delivers queued notices (and what they cause) until none are left.
  void deliver() {
    EntityNotice n;
    while (!wire_.empty()) {
      const std::string bytes = std::move(wire_.front());
      wire_.pop_front();
      ASSERT_TRUE(decode_notice(bytes, n));
      entity_.process_notice(of(n.to_type), n);
    }
  }
  void drop_notices() { wire_.clear(); }
  ConvergenceStage::ErasureOutcome erase(SubjectType type, const std::string& key) {
    sent.clear();
    return entity_.process_erasure(of(type), ErasureRecord{type, key, clock_.now()});
  }
  bool view(SubjectType type, const std::string& key, std::string& json) {
    return entity_.entity_view(type, key, json);
  }
  double gauge(const std::string& name, const std::vector<std::string>& labels) {
    entity_.maintain_oversight();
    const std::string text = prometheus::TextSerializer().Serialize(registry_.Collect());
    return test::metric_sum(text, name, labels).value_or(0.0);
  }
  std::string pseudonym(const std::string& id) const {
    std::string key;
    pseudonymiser_.pseudonymise("v-number", normalise_person_id(id), key);
    return key;
  }

  void on_routed(const RoutedSignal& r) override { entity_.process(of(r.subject_type), r); }
  void on_routed_chain(const RoutedChainEvent& r) override {
    const Partition p = r.entity == ChainEntity::location ? of(SubjectType::location)
                                                          : of(SubjectType::person);
    entity_.process_chain(p, r);
  }
  void on_rejected(const Rejection& r, const RecordView&) override {
    ADD_FAILURE() << "rejected: " << to_string(r.reason) << " " << r.detail;
  }
  void on_alert(const Alert& a, std::string_view) override { alerts.push_back(a); }
  void on_notice(const EntityNotice& n) override {
    sent.push_back(n);
    encode_notice(n, wire_.emplace_back());
  }
  void on_withdrawal(const AlertWithdrawal&, std::string_view json) override {
    withdrawals.emplace_back(json);
  }

  ConvergenceStage& stage() { return entity_; }
  VisibleStores stores;
  std::vector<Alert> alerts;
  std::vector<EntityNotice> sent;  // since the last erase()
  std::vector<std::string> withdrawals;

 private:
  const Settings settings_;  // the stages borrow its operator config
  Pseudonymiser pseudonymiser_;
  ManualClock clock_;
  prometheus::Registry registry_;
  OversightMetrics metrics_;
  IntakeStage intake_;
  ConvergenceStage entity_;
  std::deque<std::string> wire_;
};

std::string signal(const std::string& id, const std::string& source, const std::string& indicator,
                   const std::string& day, const std::string& subjects) {
  return test::signal_json(source, id, indicator, "2026-03-" + day, subjects);
}

std::string chain(const std::string& id, const std::string& type, const std::string& day,
                  const std::string& subjects, const std::string& extra = "") {
  return R"({"schema":"mozaiek.chain/v1","event_id":")" + id + R"(","type":")" + type +
         R"(","at":"2026-03-)" + day + R"(T09:00:00Z","reported_at":"2026-03-)" + day +
         R"(T09:00:00Z","org":"coa",)" + extra + R"("subjects":[)" + subjects + "]}";
}

const std::string kBoy = R"({"type":"person","id":"2213456789","id_scheme":"v-number",)"
                         R"("age_group":"minor","nationality":"SD"})";
const std::string kCar = R"({"type":"vehicle","plate":"AB-123-CD","country":"FR"})";
const std::string kGate = R"({"type":"location","id":"coa-gilze"})";
const std::string kFarm = R"({"type":"location","id":"farm-12"})";
const std::string kOther = R"({"type":"person","id":"9999","id_scheme":"v-number"})";
const std::vector<std::string> kRegistered{"count=\"registry\"", "year=\"2026\"", "form=\"all\"",
                                           "region=\"all\"", "reporter=\"all\""};

class ErasureStageTest : public ::testing::Test {
 protected:
  // The boy: signals of his own, linked to the French car and a farm,
  // arrived at and left from a reception centre, registered as a victim.
  void SetUp() override {
    net.feed(signal("coa-1", "coa", "behaviour_change", "01", kBoy));
    net.feed(signal("coa-2", "coa", "many_foreign_calls", "03", kBoy), "signals.coa");
    net.feed(signal("coa-gate", "coa", "visitor_vehicle", "06", kCar + "," + kBoy + "," + kGate));
    net.feed(signal("nla-1", "nla", "sleeps_at_workplace", "07", kBoy + "," + kFarm),
             "signals.nla");
    net.feed(signal("police-1", "police", "transports_persons_with_documents", "07", kCar),
             "signals.police");
    // Someone else, later: every source's watermark reaches March 7.
    net.feed(signal("coa-3", "coa", "behaviour_change", "08", kOther));
    net.deliver();
    net.feed(chain("arr", "person.arrived", "02", kBoy + "," + kGate), "chain.events");
    net.feed(chain("dep", "person.departed_unknown", "08", kBoy + "," + kGate), "chain.events");
    net.feed(chain("reg", "victim.registered", "09", kBoy,
                   R"("registry":"comensha","reporter":"police","forms":["labour"],)"),
             "chain.events");
    net.deliver();
    ASSERT_TRUE(net.stage().flush());
  }

  Partitions net{test::shipped_settings()};
  const std::string boy = net.pseudonym("2213456789");
  std::string json;
};

TEST_F(ErasureStageTest, PersonErasureRemovesScoresLinksAndOversightEntryAndTellsTheOtherEnds) {
  ASSERT_TRUE(net.view(SubjectType::person, boy, json));
  ASSERT_TRUE(net.view(SubjectType::vehicle, "FR-AB123CD", json));
  ASSERT_NE(json.find(boy), std::string::npos) << "the car holds its link to the boy";
  ASSERT_TRUE(net.stores.has("convergence-p0", "person:" + boy));
  ASSERT_TRUE(net.stores.has("links-p0", "person:" + boy));
  ASSERT_TRUE(net.stores.has("oversight-p0", "p:" + boy));
  EXPECT_EQ(net.gauge("mozaiek_missing_open", {}), 1.0);
  EXPECT_EQ(net.gauge("mozaiek_registrations_unique", kRegistered), 1.0);

  const auto outcome = net.erase(SubjectType::person, boy);
  EXPECT_EQ(outcome.links, 3u);  // car, farm and the reception centre at the gate
  // The car and the farm hold links; the reception centre holds none but
  // its departures name him.
  ASSERT_EQ(net.sent.size(), 3u);
  std::vector<std::string> told;
  for (const auto& n : net.sent) {
    EXPECT_TRUE(n.erased);
    EXPECT_EQ(n.from_key, boy);
    told.push_back(std::string(to_string(n.to_type)) + ":" + n.to_key);
  }
  std::sort(told.begin(), told.end());
  EXPECT_EQ(told, (std::vector<std::string>{"location:coa-gilze", "location:farm-12",
                                            "vehicle:FR-AB123CD"}));
  EXPECT_EQ(net.stage().counters().erasures[0], 1u);
  EXPECT_FALSE(net.view(SubjectType::person, boy, json)) << json;

  // Until the notices arrive, the other ends still hold him.
  ASSERT_TRUE(net.view(SubjectType::vehicle, "FR-AB123CD", json));
  EXPECT_NE(json.find(boy), std::string::npos);
  net.deliver();
  ASSERT_TRUE(net.view(SubjectType::vehicle, "FR-AB123CD", json));
  EXPECT_EQ(json.find(boy), std::string::npos) << json;
  EXPECT_NE(json.find("police-1"), std::string::npos) << "the car's own signals stay: " << json;
  ASSERT_TRUE(net.view(SubjectType::location, "farm-12", json));
  EXPECT_EQ(json.find(boy), std::string::npos) << json;

  // Flushed: no key of his in any store, the departure at the centre is
  // kept without his pseudonym, and the yearly count does not drop.
  ASSERT_TRUE(net.stage().flush());
  EXPECT_FALSE(net.stores.has("convergence-p0", "person:" + boy));
  EXPECT_FALSE(net.stores.has("links-p0", "person:" + boy));
  EXPECT_FALSE(net.stores.has("oversight-p0", "p:" + boy));
  std::string value;
  ASSERT_TRUE(net.stores.stores.at("oversight-p2")->get("l:coa-gilze", value));
  oversight::LocationState centre;
  ASSERT_TRUE(oversight::decode(value, centre));
  ASSERT_EQ(centre.departures.size(), 1u);
  EXPECT_EQ(centre.departures[0].event_id, "dep");
  EXPECT_EQ(centre.departures[0].person_key, "");
  EXPECT_EQ(net.gauge("mozaiek_registrations_unique", kRegistered), 1.0);
  EXPECT_EQ(net.gauge("mozaiek_registrations_unique",
                      {"count=\"registry\"", "year=\"2026\"", "form=\"labour\""}),
            1.0);
  EXPECT_EQ(net.gauge("mozaiek_missing_open", {}), 0.0);  // no longer tracked
  for (int p = 0; p < 3; ++p) {
    const std::string store = "links-p" + std::to_string(p);
    net.stores.stores.at(store)->scan("", [&](std::string_view k, std::string_view v) {
      EXPECT_EQ(std::string(v).find(boy), std::string::npos) << store << " " << k;
      return true;
    });
  }
}

TEST_F(ErasureStageTest, PersonErasureEmitsOneWithdrawalOfEveryAlertNamingHim) {
  EXPECT_TRUE(net.withdrawals.empty());
  std::vector<std::string> his;  // ids of the alerts on him or listing him
  std::string convergence_id;
  for (const auto& a : net.alerts) {
    bool names = a.subject_key == boy;
    for (const auto& l : a.linked) names = names || l.key == boy;
    if (names) his.push_back(a.alert_id);
    if (names && a.rule == "person_convergence") convergence_id = a.alert_id;
  }
  ASSERT_NE(convergence_id, "");
  net.erase(SubjectType::person, boy);
  // First one v2 record per alert id his state held (naming no one): his
  // convergence alert; his worrying_departure alert (oversight keeps no
  // alert ids) only by the subject-wide v1 record, which comes last.
  ASSERT_GE(net.withdrawals.size(), 2u);
  EXPECT_NE(net.withdrawals[0].find(convergence_id), std::string::npos) << net.withdrawals[0];
  for (std::size_t i = 0; i + 1 < net.withdrawals.size(); ++i) {
    AlertWithdrawal w;
    ASSERT_TRUE(read_withdrawal_json(net.withdrawals[i], w)) << net.withdrawals[i];
    EXPECT_TRUE(w.per_alert());
    EXPECT_NE(std::find(his.begin(), his.end(), w.alert_id), his.end()) << w.alert_id;
    EXPECT_EQ(net.withdrawals[i].find(boy), std::string::npos) << net.withdrawals[i];
  }
  net.withdrawals.erase(net.withdrawals.begin(), net.withdrawals.end() - 1);
  // The request's time (the manual clock's), so a replay writes the same.
  EXPECT_EQ(net.withdrawals[0],
            R"({"schema":"mozaiek.alert-withdrawal/v1","subject":{"type":"person","key":")" + boy +
                R"("},"reason":"erasure","at":"2026-05-28T20:26:40Z"})");
  AlertWithdrawal read;
  ASSERT_TRUE(read_withdrawal_json(net.withdrawals[0], read));
  EXPECT_EQ(read.subject_type, SubjectType::person);
  EXPECT_EQ(read.subject_key, boy);
  EXPECT_EQ(read.reason, "erasure");
  EXPECT_EQ(read.at, ProcTime{Millis{1'780'000'000'000}});
  // The notices it sends change no alert and withdraw nothing more.
  net.deliver();
  EXPECT_EQ(net.withdrawals.size(), 1u);
}

TEST_F(ErasureStageTest, TheWithdrawalCarriesTheRequestsTimeNotTheClocksSoAReplayMatches) {
  // A request written a day before it is applied (a replay, a restart).
  const ProcTime requested{Millis{1'780'000'000'000 - 86'400'000}};
  net.stage().process_erasure(Partition{0}, ErasureRecord{SubjectType::person, boy, requested});
  net.stage().process_erasure(Partition{0}, ErasureRecord{SubjectType::person, boy, requested});
  std::vector<std::string> v1;  // the second finds no state, so no ids: v1 only
  for (const auto& w : net.withdrawals) {
    if (w.find("alert-withdrawal/v1") != std::string::npos) v1.push_back(w);
  }
  ASSERT_EQ(v1.size(), 2u);
  EXPECT_NE(v1[0].find(R"("at":"2026-05-27T20:26:40Z")"), std::string::npos) << v1[0];
  EXPECT_EQ(v1[0], v1[1]);
}

TEST(AlertWithdrawalTest, AlertsAndDamagedRecordsAreNoWithdrawal) {
  AlertWithdrawal w;
  EXPECT_FALSE(read_withdrawal_json(R"({"schema":"mozaiek.alert/v1","alert_id":"a1"})", w));
  EXPECT_FALSE(read_withdrawal_json(
      R"({"schema":"mozaiek.alert-withdrawal/v1","subject":{"type":"ship","key":"k"},)"
      R"("reason":"erasure"})",
      w));
  EXPECT_FALSE(read_withdrawal_json(
      R"({"schema":"mozaiek.alert-withdrawal/v1","subject":{"type":"person","key":""},)"
      R"("reason":"erasure"})",
      w));
  EXPECT_FALSE(read_withdrawal_json(R"({"schema":"mozaiek.alert-withdrawal/v1")", w));
  ASSERT_TRUE(read_withdrawal_json(
      R"({"schema":"mozaiek.alert-withdrawal/v1","subject":{"type":"vehicle","key":"FR-AB123CD"},)"
      R"("reason":"erasure","at":"2026-05-28T20:26:40Z"})",
      w));
  EXPECT_EQ(w.subject_type, SubjectType::vehicle);
  EXPECT_EQ(w.subject_key, "FR-AB123CD");
}

// He had left another centre before: both centres' departures name him,
// and both are told.
TEST_F(ErasureStageTest, EveryLocationHeLeftFromForgetsHim) {
  const std::string budel = R"({"type":"location","id":"coa-budel"})";
  net.feed(chain("dep0", "person.departed_unknown", "04", kBoy + "," + budel), "chain.events");
  net.deliver();
  ASSERT_TRUE(net.stage().flush());
  net.erase(SubjectType::person, boy);
  std::vector<std::string> told;
  for (const auto& n : net.sent) {
    if (n.to_type == SubjectType::location) told.push_back(n.to_key);
  }
  std::sort(told.begin(), told.end());
  EXPECT_EQ(told, (std::vector<std::string>{"coa-budel", "coa-gilze", "farm-12"}));
  net.deliver();
  ASSERT_TRUE(net.stage().flush());
  for (const char* centre : {"coa-budel", "coa-gilze"}) {
    std::string value;
    ASSERT_TRUE(net.stores.stores.at("oversight-p2")->get(std::string("l:") + centre, value))
        << centre;
    oversight::LocationState l;
    ASSERT_TRUE(oversight::decode(value, l));
    ASSERT_EQ(l.departures.size(), 1u) << centre;
    EXPECT_EQ(l.departures[0].person_key, "") << centre;
  }
}

TEST_F(ErasureStageTest, NewSignalsAfterAnErasureStartFromZero) {
  ASSERT_TRUE(net.view(SubjectType::person, boy, json));
  ASSERT_NE(json.find("coa-1"), std::string::npos);
  net.erase(SubjectType::person, boy);
  net.deliver();
  ASSERT_TRUE(net.stage().flush());
  net.feed(signal("coa-9", "coa", "behaviour_change", "07", kBoy));
  ASSERT_TRUE(net.view(SubjectType::person, boy, json));
  EXPECT_NE(json.find("coa-9"), std::string::npos) << json;
  for (const char* gone : {"coa-1", "coa-2", "coa-gate", "nla-1", "FR-AB123CD", "farm-12"}) {
    EXPECT_EQ(json.find(gone), std::string::npos) << gone << " in " << json;
  }
  ASSERT_TRUE(net.stage().flush());
  EXPECT_TRUE(net.stores.has("convergence-p0", "person:" + boy)) << "stored again";
}

TEST_F(ErasureStageTest, VehicleErasureDropsTheBoysLinkToIt) {
  ASSERT_TRUE(net.view(SubjectType::person, boy, json));
  ASSERT_NE(json.find("FR-AB123CD"), std::string::npos);
  const auto outcome = net.erase(SubjectType::vehicle, "FR-AB123CD");
  EXPECT_EQ(outcome.links, 2u);    // the boy and the reception centre
  ASSERT_EQ(net.sent.size(), 1u);  // the centre holds no links
  EXPECT_EQ(net.sent[0].to_key, boy);
  net.deliver();
  EXPECT_FALSE(net.view(SubjectType::vehicle, "FR-AB123CD", json)) << json;
  ASSERT_TRUE(net.view(SubjectType::person, boy, json));
  EXPECT_EQ(json.find("FR-AB123CD"), std::string::npos) << json;
  EXPECT_NE(json.find("farm-12"), std::string::npos) << "other links stay";
  EXPECT_EQ(net.stage().counters().erasures[1], 1u);
}

TEST_F(ErasureStageTest, ErasingAnEntityNeverSeenWritesTombstonesAndChangesNothingElse) {
  const auto outcome = net.erase(SubjectType::person, std::string(64, 'f'));
  EXPECT_EQ(outcome.links, 0u);
  EXPECT_TRUE(net.sent.empty());
  ASSERT_TRUE(net.stage().flush());
  EXPECT_TRUE(net.view(SubjectType::person, boy, json));
  EXPECT_EQ(net.gauge("mozaiek_registrations_unique", kRegistered), 1.0);
}

}  // namespace
}  // namespace mozaiek
