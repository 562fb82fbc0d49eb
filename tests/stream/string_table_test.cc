#include "stream/string_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace mozaiek {
namespace {

TEST(StringTableTest, FindsInsertedKeysAndNothingElse) {
  StringTable<int> index;
  EXPECT_EQ(index.find("person:a"), nullptr);
  auto& a = index.insert("person:a", StringTable<int>::hash("person:a"));
  a.value = 7;
  ASSERT_NE(index.find("person:a"), nullptr);
  EXPECT_EQ(index.find("person:a"), &a);
  EXPECT_EQ(index.find("person:a")->value, 7);
  EXPECT_EQ(index.find("person:b"), nullptr);
  EXPECT_EQ(index.size(), 1u);
}

TEST(StringTableTest, NodesStayPutWhileTheTableGrows) {
  StringTable<int> index;
  auto& first = index.insert("k0", StringTable<int>::hash("k0"));
  for (int i = 1; i < 5000; ++i) {
    const std::string k = "k" + std::to_string(i);
    index.insert(k, StringTable<int>::hash(k));
  }
  EXPECT_EQ(index.find("k0"), &first);
  EXPECT_EQ(index.size(), 5000u);
}

TEST(StringTableTest, RecycleAllEmptiesTheTableAndReusesNodes) {
  StringTable<std::string> table;
  table.insert("a").value = std::string(100, 'x');
  table.insert("b").value = "y";
  table.recycle_all();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.find("a"), nullptr);
  auto& c = table.insert("c");
  c.value.assign("fresh");  // recycled values are the caller's to overwrite
  EXPECT_EQ(table.find("c")->value, "fresh");
  EXPECT_EQ(table.find("c")->key, "c");
  EXPECT_EQ(table.size(), 1u);
}

TEST(StringTableTest, RecycledNodeLeavesTheTableAndIsHandedOutByTheNextInsert) {
  StringTable<std::vector<int>> table;
  auto& a = table.insert("a");
  a.value.assign(1000, 7);
  const auto* a_address = &a;
  table.insert("b").value = {1};
  table.recycle(&a);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.find("a"), nullptr);
  ASSERT_NE(table.find("b"), nullptr);
  EXPECT_EQ(table.find("b")->value, std::vector<int>{1});
  // The next insert reuses that node: same address, old value and capacity.
  auto& c = table.insert("c");
  EXPECT_EQ(&c, a_address);
  EXPECT_EQ(c.key, "c");
  EXPECT_EQ(c.value.size(), 1000u);
  EXPECT_EQ(table.find("c"), &c);
  // A node that is not in the table is left alone.
  StringTable<std::vector<int>> other;
  other.recycle(&c);
  EXPECT_EQ(table.find("c"), &c);
  EXPECT_EQ(table.size(), 2u);
}

// Randomised against std::map, with colliding hashes forced by a tiny key
// space and erasures that exercise the backward shift.
TEST(StringTableTest, BehavesLikeAMapUnderRandomInsertsAndErasures) {
  const std::uint32_t seed = 1234;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  StringTable<int> index;
  std::map<std::string, int> model;
  for (int step = 0; step < 50000; ++step) {
    const std::string key = "s:" + std::to_string(rng() % 3000);
    auto* node = index.find(key);
    ASSERT_EQ(node != nullptr, model.count(key) == 1) << key;
    if (node == nullptr) {
      index.insert(key, StringTable<int>::hash(key)).value = step;
      model[key] = step;
    } else {
      ASSERT_EQ(node->value, model[key]);
      if (rng() % 2 == 0) {
        index.erase(node);
        model.erase(key);
      }
    }
    ASSERT_EQ(index.size(), model.size());
  }
  std::size_t visited = 0;
  index.for_each([&](const StringTable<int>::Node& n) {
    ++visited;
    EXPECT_EQ(model.at(n.key), n.value);
  });
  EXPECT_EQ(visited, model.size());
}

}  // namespace
}  // namespace mozaiek
