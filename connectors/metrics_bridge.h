// Moves the stages' plain per-batch counters into the Prometheus probe and
// resets them. Called by task loops after each batch, never per record.
#pragma once

#include "operators/pipeline/stage_counters.h"
#include "stream/pipeline_metrics.h"

namespace mozaiek {

enum class Stage { intake, convergence };

void publish_stage_counters(StageCounters& counters, Stage stage, PipelineMetrics& metrics);

}  // namespace mozaiek
