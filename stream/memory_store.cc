// In-memory StateStore. Used by tests and by replays without a state
// directory; nothing survives the process, so flush() has nothing to make
// durable. A hash map keeps get/put O(1) on the hot path; scan() (rare:
// expiry, tools) sorts the matching keys to visit them in key order like
// RocksDB does.
#include <algorithm>
#include <vector>

#include "stream/hash.h"
#include "stream/state_store.h"

namespace mozaiek {
namespace {

class MemoryStore final : public StateStore {
 public:
  bool get(std::string_view key, std::string& value) override {
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    value.assign(it->second);
    return true;
  }

  void put(std::string_view key, std::string_view value) override {
    auto it = map_.find(key);
    if (it != map_.end()) {
      it->second.assign(value);  // keeps the old capacity
    } else {
      map_.emplace(std::string(key), std::string(value));
    }
  }

  void erase(std::string_view key) override {
    auto it = map_.find(key);
    if (it != map_.end()) map_.erase(it);
  }

  void scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& visit) override {
    std::vector<const std::pair<const std::string, std::string>*> matches;
    for (const auto& kv : map_) {
      if (std::string_view(kv.first).substr(0, prefix.size()) == prefix) matches.push_back(&kv);
    }
    std::sort(matches.begin(), matches.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    for (const auto* kv : matches) {
      if (!visit(kv->first, kv->second)) break;
    }
  }

  Status flush() override { return Status::ok(); }

  std::size_t approximate_entries() override { return map_.size(); }

 private:
  StringMap<std::string> map_;
};

}  // namespace

std::unique_ptr<StateStore> make_memory_store() { return std::make_unique<MemoryStore>(); }

}  // namespace mozaiek
