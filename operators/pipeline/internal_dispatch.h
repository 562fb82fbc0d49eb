// InternalDispatch: the one switch on the first byte of an internal record
// (operators/records/internal_record.h). Decodes into reused scratch objects
// and hands each record to the ConvergenceStage method for its kind; counts
// what it cannot decode (another catalogue, a newer version, a bug).
//
// Used by the service's convergence task and by LocalPipeline's notice
// queue; owned by the thread that owns the stage.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

#include "operators/model/chain_event.h"
#include "operators/model/model.h"
#include "operators/pipeline/convergence_stage.h"
#include "operators/records/entity_notice.h"
#include "operators/records/erasure_record.h"

namespace mozaiek {

class InternalDispatch {
 public:
  enum class Result { dispatched, undecodable };

  InternalDispatch(const OperatorConfig& config, ConvergenceStage& stage)
      : config_(&config), stage_(stage) {}
  InternalDispatch(const InternalDispatch&) = delete;
  InternalDispatch& operator=(const InternalDispatch&) = delete;

  Result dispatch(Partition p, std::string_view bytes);
  // A live reload: decode with `config` from now on (it must outlive its use).
  void reconfigure(const OperatorConfig& config) { config_ = &config; }
  // Undecodable records since the last call.
  std::uint64_t take_undecodable() { return std::exchange(undecodable_, 0); }

 private:
  const OperatorConfig* config_;
  ConvergenceStage& stage_;
  RoutedSignal routed_;
  RoutedChainEvent routed_chain_;
  EntityNotice notice_;
  ErasureRecord erasure_;
  std::uint64_t undecodable_ = 0;
};

}  // namespace mozaiek
