// KnownKeys: the keys a state store may hold, kept as 32-bit fingerprints of
// their hashes, so a key seen for the first time (most subjects and links
// are new) skips the store lookup that would find nothing.
//
// Never a false "absent" as long as every key that can be in the store was
// added: the owner (the convergence scorer's and the link tracker's
// partition state) fills it from a scan of the store when the state is made
// (after any changelog restore), adds every key it caches or writes, and
// rebuilds it from the store during expiry. A false "maybe" (two keys
// sharing a fingerprint, or a key erased since) only costs the lookup that
// would have been done anyway. Open addressing in one flat array, at most
// half full: 8 bytes per key at most.
//
// Not thread-safe; owned by one partition state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mozaiek {

class KnownKeys {
 public:
  // hash: the full 64-bit hash of the key (StringTable::hash).
  void add(std::uint64_t hash) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const std::uint32_t fp = fingerprint(hash);
    for (std::size_t i = fp & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == fp) return;
      if (slots_[i] == 0) {
        slots_[i] = fp;
        ++size_;
        return;
      }
    }
  }

  bool may_contain(std::uint64_t hash) const {
    if (size_ == 0) return false;
    const std::uint32_t fp = fingerprint(hash);
    for (std::size_t i = fp & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == fp) return true;
      if (slots_[i] == 0) return false;
    }
  }

  void clear() {
    slots_.clear();
    mask_ = 0;
    size_ = 0;
  }

  // Distinct fingerprints held.
  std::size_t size() const { return size_; }

 private:
  // The high half of the hash (the cache's table indexes by the low bits);
  // 0 marks an empty slot, so it stands for 1.
  static std::uint32_t fingerprint(std::uint64_t hash) {
    const auto fp = static_cast<std::uint32_t>(hash >> 32);
    return fp == 0 ? 1 : fp;
  }

  void grow() {
    std::vector<std::uint32_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
    mask_ = slots_.size() - 1;
    for (std::uint32_t fp : old) {
      if (fp == 0) continue;
      std::size_t i = fp & mask_;
      while (slots_[i] != 0) i = (i + 1) & mask_;
      slots_[i] = fp;
    }
  }

  std::vector<std::uint32_t> slots_;  // 0 = empty
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace mozaiek
