#include "finch/cli/settings.h"

#include "finch/core/log.h"

namespace finch::cli {

SettingsFlags::SettingsFlags(CLI::App& command, Settings& settings) : settings_(settings) {
  command.add_option("--config", config_file_, "YAML file of settings (sections model:, data:, ...); flags override it")
      ->check(CLI::ExistingFile);
  for (const auto& s : settings.registry.settings()) {
    std::string names = "--" + s->key;
    for (const auto& a : s->aliases) names += ",--" + a;
    const std::string key = s->key;
    auto* option = command.add_option_function<std::string>(
        names, [this, key](const std::string& value) { flags_.emplace_back(key, value, "--" + key); },
        fmt::format("{} [{}, default {}]", s->help, s->type, s->default_text));
    option->trigger_on_parse()->group(s->key.substr(0, s->key.find('.')) + " settings");
    if (s->type == "boolean") option->expected(0, 1)->default_str("true");
  }
}

void SettingsFlags::resolve() {
  if (!config_file_.empty()) settings_.registry.load_yaml_file(config_file_);
  for (const auto& [key, value, flag] : flags_) settings_.registry.set_from_flag(key, value, flag);
}

}  // namespace finch::cli
