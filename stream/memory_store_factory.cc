#include "stream/state_store.h"

namespace mozaiek {
namespace {

class MemoryStoreFactory final : public StateStoreFactory {
 public:
  std::unique_ptr<StateStore> open(std::string_view) override { return make_memory_store(); }
};

}  // namespace

std::unique_ptr<StateStoreFactory> make_memory_store_factory() {
  return std::make_unique<MemoryStoreFactory>();
}

}  // namespace mozaiek
