// The key version of a state directory and rekey_state(): an interrupted
// rekey, re-run, leaves exactly the state an uninterrupted one does; persons
// land on the partition Kafka routes their new pseudonym to; fresh state is
// marked and state newer than the key list is refused.
#include "connectors/app/pseudonym_state.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "connectors/app/local_pipeline.h"
#include "stream/rocksdb_state.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/temp_dir.h"

namespace mozaiek {
namespace {

const std::string kKey1 = "state-test-first-key-0123456789";
const std::string kKey2 = "state-test-second-key-0123456789";
const std::string kChain = std::string(Pseudonymiser::kKeyListHeader) + "\n1:" + kKey1 +
                           "\n2:" + kKey2 + "\n";

using Dump = std::map<std::string, std::map<std::string, std::string>>;

// Every entry of every store of the directory, by store name.
Dump dump(const std::string& dir) {
  Status s = Status::ok();
  auto db = RocksStateDb::open(dir, s);
  EXPECT_TRUE(db) << s.message();
  Dump out;
  if (!db) return out;
  for (const auto& name : db->store_names()) {
    std::unique_ptr<StateStore> store;
    EXPECT_TRUE(db->store(name, store).is_ok());
    store->scan("", [&](std::string_view k, std::string_view v) {
      out[name][std::string(k)] = std::string(v);
      return true;
    });
  }
  return out;
}

// Person keys ("person:<pseudonym>") of one store.
std::set<std::string> persons_in(const Dump& d, const std::string& store) {
  std::set<std::string> out;
  auto it = d.find(store);
  if (it == d.end()) return out;
  for (const auto& [k, v] : it->second) {
    if (k.rfind("person:", 0) == 0) out.insert(k.substr(7));
  }
  return out;
}

class PseudonymStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_ = test::shipped_settings();
    traffic_ = test::make_traffic(settings_, 3000, 11);
  }

  // The traffic through a LocalPipeline under key 1, state in `dir`.
  void build_state(const std::string& dir) {
    Status s = Status::ok();
    auto db = RocksStateDb::open(dir, s);
    ASSERT_TRUE(db) << s.message();
    auto stores = db->factory();
    const Pseudonymiser p(kKey1);
    ManualClock clock(ProcTime{Millis{1'800'000'000'000}});  // after the traffic
    {
      LocalPipeline pipeline(settings_.operators, p, clock, *stores, nullptr, nullptr);
      RecordView view;
      for (const auto& r : traffic_.records) {
        view.value = r.value;
        pipeline.process(view);
      }
      ASSERT_TRUE(pipeline.finish().is_ok());
    }
  }

  Status rekey(const std::string& dir, RekeyOptions options, RekeyReport& report) {
    Status s = Status::ok();
    auto db = RocksStateDb::open(dir, s);
    if (!db) return s;
    auto stores = db->factory();
    return rekey_state(*stores, settings_.operators, chain_, options, report);
  }

  Status check(const std::string& dir, int partitions, int running) {
    Status s = Status::ok();
    auto db = RocksStateDb::open(dir, s);
    if (!db) return s;
    auto stores = db->factory();
    return check_state_key_version(*stores, partitions, running, dir);
  }

  Settings settings_;
  test::Traffic traffic_;
  const Pseudonymiser chain_{kChain};
};

TEST_F(PseudonymStateTest, Murmur2PartitionIsLibrdkafkasPartitioner) {
  const std::vector<std::string> keys{"",
                                      "a",
                                      "ab",
                                      "abc",
                                      "abcd",
                                      "person:0123456789abcdef",
                                      "vehicle:FR-AB123CD",
                                      "person:" + std::string(64, 'f')};
  for (const auto& key : keys) {
    for (int n : {1, 4, 12}) {
      EXPECT_EQ(murmur2_partition(key, n),
                rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), n, nullptr,
                                                 nullptr))
          << key << " over " << n;
    }
  }
}

TEST_F(PseudonymStateTest, InterruptedRekeyReRunLeavesTheStateAnUninterruptedOneDoes) {
  test::TempDir straight("mozaiek-rekey-straight");
  test::TempDir interrupted("mozaiek-rekey-interrupted");
  build_state(straight.path());
  build_state(interrupted.path());
  const Dump before = dump(straight.path());
  const auto old_persons = persons_in(before, "convergence-p0");
  ASSERT_FALSE(old_persons.empty());

  RekeyReport report;
  ASSERT_TRUE(rekey(straight.path(), {}, report).is_ok());
  EXPECT_EQ(report.from, 1);
  EXPECT_EQ(report.to, 2);
  EXPECT_FALSE(report.resumed);
  EXPECT_EQ(report.undecodable, 0U);
  EXPECT_GT(report.named_inside, 0U);  // vehicles' and locations' links to persons

  // Interrupted before the commit mark: the data is untouched, still version 1.
  RekeyOptions stop;
  stop.stop_after_staging = true;
  ASSERT_TRUE(rekey(interrupted.path(), stop, report).is_ok());
  Status c = check(interrupted.path(), 1, 2);
  EXPECT_FALSE(c.is_ok());
  EXPECT_NE(c.message().find("key version 1"), std::string::npos) << c.message();
  EXPECT_EQ(persons_in(dump(interrupted.path()), "convergence-p0"), old_persons);
  // Interrupted after it, one store copied: the state refuses to be used.
  stop.stop_after_staging = false;
  stop.stop_after_copied = 1;
  ASSERT_TRUE(rekey(interrupted.path(), stop, report).is_ok());
  c = check(interrupted.path(), 1, 2);
  EXPECT_FALSE(c.is_ok());
  EXPECT_NE(c.message().find("interrupted `mozaiek rekey`"), std::string::npos) << c.message();
  // Re-run: finishes it.
  ASSERT_TRUE(rekey(interrupted.path(), {}, report).is_ok());
  EXPECT_TRUE(report.resumed);
  EXPECT_TRUE(check(interrupted.path(), 1, 2).is_ok());

  const Dump a = dump(straight.path());
  const Dump b = dump(interrupted.path());
  for (const std::string store : {"convergence-p0", "links-p0", "oversight-p0", "pseudonym-key"}) {
    ASSERT_TRUE(a.count(store)) << store;
    EXPECT_EQ(a.at(store), b.at(store)) << store;
  }
  for (const auto& [name, entries] : b) {
    if (name.rfind("rekey-stage", 0) == 0) {
      EXPECT_TRUE(entries.empty()) << name;
    }
  }
  // Every person under its version-2 pseudonym, nothing else changed in number.
  std::set<std::string> expected;
  for (const auto& old : old_persons) {
    std::string moved;
    chain_.rekey(old, 1, moved);
    expected.insert(moved);
  }
  EXPECT_EQ(persons_in(a, "convergence-p0"), expected);
  for (const std::string store : {"convergence-p0", "links-p0", "oversight-p0"}) {
    EXPECT_EQ(a.at(store).size(), before.at(store).size()) << store;
  }
  // Running rekey again changes nothing.
  ASSERT_TRUE(rekey(straight.path(), {}, report).is_ok());
  EXPECT_TRUE(report.already_current);
  EXPECT_EQ(dump(straight.path()).at("convergence-p0"), a.at("convergence-p0"));
}

TEST_F(PseudonymStateTest, PersonsLandOnThePartitionTheirNewPseudonymRoutesTo) {
  test::TempDir dir("mozaiek-rekey-partitions");
  std::vector<std::string> old_keys;
  {
    Status s = Status::ok();
    auto db = RocksStateDb::open(dir.path(), s);
    ASSERT_TRUE(db) << s.message();
    const Pseudonymiser key1(kKey1);
    for (int p = 0; p < 4; ++p) {
      std::unique_ptr<StateStore> store;
      ASSERT_TRUE(db->store("convergence-p" + std::to_string(p), store).is_ok());
      for (int i = 0; i < 8; ++i) {
        std::string k;
        key1.pseudonymise("bsn", std::to_string(p * 100 + i), k);
        old_keys.push_back(k);
        store->put("person:" + k, "score-of-" + k);
      }
      store->put("vehicle:NL-" + std::to_string(p), "a car");
      ASSERT_TRUE(store->flush().is_ok());
    }
  }
  RekeyOptions options;
  options.partitions = 4;
  RekeyReport report;
  Status s = Status::ok();
  {
    auto db = RocksStateDb::open(dir.path(), s);
    ASSERT_TRUE(db);
    auto stores = db->factory();
    ASSERT_TRUE(rekey_state(*stores, settings_.operators, chain_, options, report).is_ok());
  }
  EXPECT_EQ(report.persons, 32U);
  EXPECT_GT(report.moved_partition, 0U);
  const Dump d = dump(dir.path());
  for (const auto& old : old_keys) {
    std::string moved;
    chain_.rekey(old, 1, moved);
    const int home = murmur2_partition("person:" + moved, 4);
    for (int p = 0; p < 4; ++p) {
      const auto& store = d.at("convergence-p" + std::to_string(p));
      EXPECT_EQ(store.count("person:" + moved), p == home ? 1U : 0U) << p;
      EXPECT_EQ(store.count("person:" + old), 0U);
    }
    // The value travelled with it unchanged.
    EXPECT_EQ(d.at("convergence-p" + std::to_string(home)).at("person:" + moved),
              "score-of-" + old);
  }
  for (int p = 0; p < 4; ++p) {
    EXPECT_EQ(d.at("convergence-p" + std::to_string(p)).count("vehicle:NL-" + std::to_string(p)),
              1U);
  }
}

TEST_F(PseudonymStateTest, FreshStateIsMarkedAndStateNewerThanTheKeysIsRefused) {
  test::TempDir dir("mozaiek-rekey-fresh");
  EXPECT_TRUE(check(dir.path(), 1, 2).is_ok());
  EXPECT_EQ(dump(dir.path()).at("pseudonym-key").at("version"), "2");
  EXPECT_TRUE(check(dir.path(), 1, 2).is_ok());
  const Status older = check(dir.path(), 1, 1);
  EXPECT_FALSE(older.is_ok());
  EXPECT_NE(older.message().find("lacks the newer key"), std::string::npos) << older.message();
}

}  // namespace
}  // namespace mozaiek
