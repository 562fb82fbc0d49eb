// CachedStore over both the memory store and RocksDB, through a store that
// counts the lookups and writes reaching it.
#include "stream/cached_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "stream/rocksdb_state.h"
#include "tests/support/temp_dir.h"

namespace mozaiek {
namespace {

using test::TempDir;

// Passes everything to `inner`, counting gets, puts and erases.
class CountingStore final : public StateStore {
 public:
  explicit CountingStore(StateStore& inner) : inner_(inner) {}
  bool get(std::string_view key, std::string& value) override {
    ++gets;
    return inner_.get(key, value);
  }
  void put(std::string_view key, std::string_view value) override {
    ++puts;
    inner_.put(key, value);
  }
  void erase(std::string_view key) override {
    ++erases;
    inner_.erase(key);
  }
  void scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& visit) override {
    inner_.scan(prefix, visit);
  }
  Status flush() override { return inner_.flush(); }
  std::size_t approximate_entries() override { return inner_.approximate_entries(); }

  int gets = 0;
  int puts = 0;
  int erases = 0;

 private:
  StateStore& inner_;
};

struct Value {
  std::string text;
  std::vector<int> history;  // not stored: shows a recycled node's capacity
};

// Stores the text; "!" at the start does not decode; an empty text erases.
struct TextCodec {
  void encode(const Value& v, std::string& out) { out = v.text; }
  bool decode(std::string_view in, Value& v) {
    if (!in.empty() && in.front() == '!') return false;
    v.text.assign(in);
    return true;
  }
  void reset(Value& v) {
    v.text.clear();
    v.history.clear();
  }
  bool erases(const Value& v) const { return v.text.empty(); }
};

using Cache = CachedStore<Value, TextCodec>;

struct MemoryBackend {
  std::unique_ptr<StateStore> inner = make_memory_store();
  StateStore& get() { return *inner; }
};

struct RocksBackend {
  TempDir dir{"mozaiek-cached"};
  std::unique_ptr<RocksStateDb> db;
  std::unique_ptr<StateStore> inner;
  RocksBackend() {
    Status status = Status::ok();
    db = RocksStateDb::open(dir.path(), status);
    if (db) inner = db->store("cached-p0");
  }
  StateStore& get() { return *inner; }
};

template <class Backend>
class CachedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(&backend_.get(), nullptr); }
  CountingStore& store() {
    if (!counting_) counting_ = std::make_unique<CountingStore>(backend_.get());
    return *counting_;
  }
  std::unique_ptr<Cache> open(std::size_t max_cached = Cache::kUnbounded) {
    return std::make_unique<Cache>(store(), "test", max_cached, "");
  }
  std::string stored(std::string_view key) {
    std::string v;
    return backend_.get().get(key, v) ? v : "<absent>";
  }
  // Loads key and sets its text, marking it dirty.
  static void set(Cache& cache, std::string_view key, std::string_view text) {
    auto& node = cache.load(key);
    node.value.value.text.assign(text);
    cache.mark_dirty(node);
  }

  Backend backend_;
  std::unique_ptr<CountingStore> counting_;
};

using Backends = ::testing::Types<MemoryBackend, RocksBackend>;
TYPED_TEST_SUITE(CachedStoreTest, Backends);

TYPED_TEST(CachedStoreTest, LoadsFromTheStoreStartsNewKeysEmptyAndHitsTheCache) {
  this->backend_.get().put("a", "stored");
  ASSERT_TRUE(this->backend_.get().flush().is_ok());
  auto cache = this->open();
  EXPECT_EQ(cache->load("a").value.value.text, "stored");
  EXPECT_EQ(cache->load("b").value.value.text, "");
  const int gets = this->store().gets;
  EXPECT_EQ(&cache->load("a"), &cache->load("a"));  // a hit: no store lookup
  EXPECT_EQ(this->store().gets, gets);
  EXPECT_EQ(cache->size(), 2u);
}

TYPED_TEST(CachedStoreTest, KeysNeverWrittenSkipTheStoreLookup) {
  this->backend_.get().put("old", "x");
  auto cache = this->open();
  cache->load("new-1");
  cache->load("new-2");
  EXPECT_EQ(this->store().gets, 0);
  cache->load("old");  // in the store before the cache was made
  EXPECT_EQ(this->store().gets, 1);
  Value scratch;
  EXPECT_EQ(cache->peek("never", scratch), nullptr);
  EXPECT_EQ(this->store().gets, 1);
}

TYPED_TEST(CachedStoreTest, DirtyValuesAreWrittenOnceOnFlush) {
  auto cache = this->open();
  this->set(*cache, "a", "1");
  this->set(*cache, "a", "2");
  cache->write_dirty();
  EXPECT_EQ(this->store().puts, 1);
  EXPECT_EQ(this->stored("a"), "2");
  cache->write_dirty();  // nothing changed since
  EXPECT_EQ(this->store().puts, 1);
}

TYPED_TEST(CachedStoreTest, EvictionWritesDirtyValuesAndKeepsTheMostRecentlyUsed) {
  auto cache = this->open(8);
  for (int i = 0; i < 8; ++i) this->set(*cache, "k" + std::to_string(i), std::to_string(i));
  cache->load("k0");  // now the most recently used; k1 the least
  cache->load("k8");  // full: drops one eighth, after writing the dirty ones
  EXPECT_EQ(cache->size(), 8u);
  EXPECT_EQ(this->store().puts, 8);
  EXPECT_EQ(cache->find("k1"), nullptr);
  EXPECT_NE(cache->find("k0"), nullptr);
  EXPECT_EQ(cache->load("k1").value.value.text, "1");  // read back
}

TYPED_TEST(CachedStoreTest, ARecycledNodeKeepsItsCapacity) {
  auto cache = this->open(1);
  auto& first = cache->load("a");
  first.value.value.history.assign(100, 7);
  const auto* data = first.value.value.history.data();
  auto& second = cache->load("b");  // evicts a, reuses its node
  EXPECT_TRUE(second.value.value.history.empty());
  EXPECT_GE(second.value.value.history.capacity(), 100u);
  EXPECT_EQ(second.value.value.history.data(), data);
}

TYPED_TEST(CachedStoreTest, AnUndecodableEntryIsReplacedAndCounted) {
  this->backend_.get().put("bad", "!garbage");
  auto cache = this->open();
  EXPECT_EQ(cache->load("bad").value.value.text, "");
  EXPECT_EQ(cache->undecodable(), 1u);
  this->set(*cache, "bad", "good");
  cache->write_dirty();
  EXPECT_EQ(this->stored("bad"), "good");
}

TYPED_TEST(CachedStoreTest, EraseAndEmptyValuesBecomeTombstones) {
  auto cache = this->open();
  this->set(*cache, "a", "1");
  this->set(*cache, "b", "2");
  cache->write_dirty();
  this->set(*cache, "a", "changed");
  cache->erase("a");           // no longer dirty: nothing is written back
  this->set(*cache, "b", "");  // empty: written as an erase
  cache->write_dirty();
  EXPECT_EQ(this->stored("a"), "<absent>");
  EXPECT_EQ(this->stored("b"), "<absent>");
  EXPECT_EQ(cache->find("a"), nullptr);
  EXPECT_EQ(cache->load("a").value.value.text, "");  // starts anew
}

TYPED_TEST(CachedStoreTest, ExpireVisitsCachedAndStoredValuesOnce) {
  auto cache = this->open(2);
  this->set(*cache, "keep", "k");
  this->set(*cache, "drop", "d");
  this->set(*cache, "old-keep", "k");  // evicts one into the store
  this->set(*cache, "old-drop", "d");
  this->set(*cache, "change", "c");
  std::vector<std::string> visited;
  using Verdict = Cache::Verdict;
  auto verdict = [](std::string_view text) {
    return text == "d" ? Verdict::remove : text == "c" ? Verdict::changed : Verdict::unchanged;
  };
  const std::size_t removed = cache->expire(
      [&](std::string_view key, Value& v) {
        visited.emplace_back(key);
        if (v.text != "c") return verdict(v.text);
        v.text = "c2";
        return Verdict::changed;
      },
      [&](std::string_view key, std::string_view bytes, std::string& rewritten) {
        visited.emplace_back(key);
        if (bytes == "c") rewritten = "c2";
        return verdict(bytes);
      });
  std::sort(visited.begin(), visited.end());
  EXPECT_EQ(visited, (std::vector<std::string>{"change", "drop", "keep", "old-drop", "old-keep"}));
  EXPECT_EQ(removed, 2u);
  cache->write_dirty();
  EXPECT_EQ(this->stored("change"), "c2");
  EXPECT_EQ(this->stored("drop"), "<absent>");
  EXPECT_EQ(this->stored("old-drop"), "<absent>");
  EXPECT_EQ(this->stored("keep"), "k");
}

TYPED_TEST(CachedStoreTest, LoadAllDecodesEverythingUnderThePrefix) {
  this->backend_.get().put("m:1", "one");
  this->backend_.get().put("m:2", "!bad");
  this->backend_.get().put("p:1", "person");
  auto cache = std::make_unique<Cache>(this->store(), "test", Cache::kUnbounded, "m:");
  std::vector<std::string> loaded;
  cache->load_all("m:", [&](typename Cache::Node& n) { loaded.push_back(n.key); });
  EXPECT_EQ(loaded, (std::vector<std::string>{"m:1"}));
  EXPECT_EQ(cache->undecodable(), 1u);
  EXPECT_EQ(this->stored("m:2"), "!bad");  // left alone until written over
}

}  // namespace
}  // namespace mozaiek
