#include "operators/pipeline/internal_dispatch.h"

#include <spdlog/spdlog.h>

#include "operators/records/chain_codec.h"
#include "operators/records/internal_record.h"
#include "operators/records/routed_codec.h"

namespace mozaiek {

InternalDispatch::Result InternalDispatch::dispatch(Partition p, std::string_view bytes) {
  switch (internal_record_kind(bytes).value_or(InternalRecordKind{0})) {
    case InternalRecordKind::routed_signal:
      if (!decode_routed(bytes, *config_, routed_)) break;
      stage_.process(p, routed_);
      return Result::dispatched;
    case InternalRecordKind::entity_notice:
      if (!decode_notice(bytes, notice_)) break;
      stage_.process_notice(p, notice_);
      return Result::dispatched;
    case InternalRecordKind::chain_event:
      if (!decode_routed_chain(bytes, *config_, routed_chain_)) break;
      stage_.process_chain(p, routed_chain_);
      return Result::dispatched;
    case InternalRecordKind::erasure: {
      if (!decode_erasure(bytes, erasure_)) break;
      const auto done = stage_.process_erasure(p, erasure_);
      // The subject type only: the key is personal data.
      spdlog::info("erasure applied to a {}: {} links dropped, {} other ends told",
                   to_string(erasure_.type), done.links, done.notices);
      return Result::dispatched;
    }
  }
  ++undecodable_;
  return Result::undecodable;
}

}  // namespace mozaiek
