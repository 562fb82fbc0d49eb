// `mozaiek check-config FILE`: validates a config and names every bad key.
// `mozaiek config-reference`: prints every config key with its type, default
// and meaning (Markdown), generated from the same schema the loader checks.
#include "connectors/app/cli/commands.h"
#include "connectors/app/settings.h"

namespace mozaiek::cli {
namespace {

int check_config(const std::string& path) {
  Settings settings;
  std::vector<std::string> errors;
  if (!load_settings(path, settings, errors)) {
    for (const auto& e : errors) std::fprintf(stderr, "%s: %s\n", path.c_str(), e.c_str());
    std::fprintf(stderr, "%s: %zu error(s)\n", path.c_str(), errors.size());
    return 1;
  }
  const auto& ops = settings.operators;
  std::printf("%s: OK (%zu indicators, %zu sources, brokers %s, %d partitions)\n", path.c_str(),
              ops.catalogue.size(), ops.sources.size(), settings.brokers.c_str(),
              settings.partitions);
  for (const auto& r : ops.rules) {
    std::printf(
        "  rule %s (%s): window %lld d, half-life %lld d, threshold %.2f, min %d sources%s\n",
        r.name.c_str(), std::string(to_string(r.subject_type)).c_str(),
        static_cast<long long>(r.window / days(1)), static_cast<long long>(r.half_life / days(1)),
        r.threshold, r.min_sources, r.concrete_alone ? ", concrete alone" : "");
  }
  const OversightConfig& o = ops.oversight;
  std::string rules;
  for (const auto& c : o.counting_rules) rules += (rules.empty() ? "" : ", ") + c.name;
  std::printf("  oversight: melding deadline %.4g d; mob_spike over %.4g d against %.4g d "
              "(p <= %.3g, >= %d departures); counting rules %s\n",
              to_seconds(o.melding_deadline) / 86400.0, to_seconds(o.spike_window) / 86400.0,
              to_seconds(o.spike_baseline) / 86400.0, o.spike_p_value, o.spike_min_departures,
              rules.c_str());
  const LinkingConfig& l = ops.linking;
  if (!l.enabled) {
    std::printf("  linking: off\n");
    return 0;
  }
  std::printf("  linking: link window %lld d, %zu links per entity\n",
              static_cast<long long>(l.link_window / days(1)), l.max_links);
  for (const auto* r : {&l.pickup_van, &l.linked_persons, &l.address_hotspot}) {
    std::printf("  network rule %s: %s, window %lld d, at %d distinct, weight %.2f\n",
                r->name.c_str(), r->enabled ? "on" : "off",
                static_cast<long long>(r->window / days(1)), r->min_count, r->weight);
  }
  std::printf("  network rule %s: %s, share %.2f, threshold %.2f\n", l.person_lift.name.c_str(),
              l.person_lift.enabled ? "on" : "off", l.person_lift.share, l.person_lift.threshold);
  return 0;
}

}  // namespace

void add_check_config_command(CLI::App& app, Runner& run) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("check-config",
                                 "Validate a config file; every error names its YAML key.");
  cmd->add_option("file", *path, "Config file")->required();
  cmd->callback([path, &run] { run = [path] { return check_config(*path); }; });
}

void add_config_reference_command(CLI::App& app, Runner& run) {
  auto* cmd =
      app.add_subcommand("config-reference",
                         "Print every config key with its type, default and meaning, as Markdown.");
  cmd->callback([&run] {
    run = [] {
      const std::string md = settings_reference_markdown();
      std::fwrite(md.data(), 1, md.size(), stdout);
      return 0;
    };
  });
}

}  // namespace mozaiek::cli
