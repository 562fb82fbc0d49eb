// In-memory StateStore. Used by tests and by replays without a state
// directory; nothing survives the process, so flush() has nothing to make
// durable. get/put are hash lookups (the scorer writes every changed subject
// on each flush); scan() - rare: expiry, tools - sorts the matching keys to
// visit them in key order, like RocksDB.
#include <algorithm>
#include <vector>

#include "stream/state_store.h"
#include "stream/string_table.h"

namespace mozaiek {
namespace {

class MemoryStore final : public StateStore {
 public:
  bool get(std::string_view key, std::string& value) override {
    const auto* node = map_.find(key);
    if (node == nullptr) return false;
    value.assign(node->value);
    return true;
  }

  void put(std::string_view key, std::string_view value) override {
    const std::uint64_t h = map_.hash(key);
    auto* node = map_.find(key, h);
    if (node == nullptr) node = &map_.insert(key, h);
    node->value.assign(value);  // keeps the old capacity
  }

  void erase(std::string_view key) override { map_.erase(map_.find(key)); }

  void scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& visit) override {
    std::vector<const Map::Node*> matches;
    map_.for_each([&](const Map::Node& n) {
      if (std::string_view(n.key).substr(0, prefix.size()) == prefix) matches.push_back(&n);
    });
    std::sort(matches.begin(), matches.end(),
              [](const Map::Node* a, const Map::Node* b) { return a->key < b->key; });
    for (const Map::Node* n : matches) {
      if (!visit(n->key, n->value)) break;
    }
  }

  Status flush() override { return Status::ok(); }

  std::size_t approximate_entries() override { return map_.size(); }

 private:
  using Map = StringTable<std::string>;
  Map map_;
};

}  // namespace

std::unique_ptr<StateStore> make_memory_store() { return std::make_unique<MemoryStore>(); }

namespace {

class FailedStore final : public StateStore {
 public:
  explicit FailedStore(Status error) : memory_(make_memory_store()), error_(std::move(error)) {}
  bool get(std::string_view key, std::string& value) override { return memory_->get(key, value); }
  void put(std::string_view key, std::string_view value) override { memory_->put(key, value); }
  void erase(std::string_view key) override { memory_->erase(key); }
  void scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& visit) override {
    memory_->scan(prefix, visit);
  }
  Status flush() override { return Status::error(error_.message()); }
  std::size_t approximate_entries() override { return memory_->approximate_entries(); }

 private:
  std::unique_ptr<StateStore> memory_;
  Status error_;
};

}  // namespace

std::unique_ptr<StateStore> make_failed_store(Status error) {
  return std::make_unique<FailedStore>(std::move(error));
}

}  // namespace mozaiek
