// Glue between the stages' plain counters and the Prometheus probe. Task
// loops call these after each batch (or every few seconds), never per record.
#pragma once

#include "connectors/app/settings.h"
#include "operators/linking/link_tracker.h"
#include "operators/oversight/oversight_metrics.h"
#include "operators/pipeline/pipeline_metrics.h"
#include "operators/pipeline/stage_counters.h"
#include "stream/watermark_tracker.h"

namespace mozaiek {

enum class Stage { intake, convergence };

// The bounded label sets of a deployment: configured sources, DLQ reasons,
// rules, consumer groups and their topics, state stores.
PipelineLabelSets pipeline_label_sets(const Settings& settings);

// The bounded label sets of the oversight metrics: configured sources as
// organisations, metrics.locations, age groups, nationality regions,
// oversight.reappearance_places, counting rules and chain event types.
OversightLabelSets oversight_label_sets(const Settings& settings);

// Adds the batch's chain events by type to the probe (does not reset: the
// pipeline counters are reset by publish_stage_counters).
void publish_chain_counts(const StageCounters& counters, OversightMetrics& metrics);

// Adds the batch's counts to the probe and resets the counters.
void publish_stage_counters(StageCounters& counters, Stage stage, PipelineMetrics& metrics);
// Adds the linking counts to the metrics and resets them.
void publish_link_counters(LinkCounters& counters, PipelineMetrics& metrics);

// Watermark delay (wall clock minus watermark), silence and idleness per source.
void publish_watermarks(const WatermarkTracker& watermarks, ProcTime now, PipelineMetrics& metrics);

}  // namespace mozaiek
