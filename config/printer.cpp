#include "config/printer.h"

#include <variant>
#include <vector>

#include "config/duration.h"
#include "config/listen_address.h"
#include "config/number_text.h"
#include "config/schema_names.h"
#include "config/yaml_writer.h"

namespace covet::config {
namespace detail {
namespace {

void write_disk(const DiskProbeConfig& disk, YamlWriter& out) {
  out.string("path", disk.path);
  out.plain("warn_free_percent", format_number(disk.warn_free_percent));
  out.plain("fail_free_percent", format_number(disk.fail_free_percent));
  out.plain("warn_free_inodes_percent", format_number(disk.warn_free_inodes_percent));
  out.plain("fail_free_inodes_percent", format_number(disk.fail_free_inodes_percent));
  out.plain("write_check", disk.write_check ? "true" : "false");
}

void write_memory(const MemoryProbeConfig& memory, YamlWriter& out) {
  out.plain("warn_percent", format_number(memory.warn_percent));
  out.plain("fail_percent", format_number(memory.fail_percent));
  out.string("cgroup_root", memory.cgroup_root);
  out.string("proc_root", memory.proc_root);
}

void write_probe(const ProbeConfig& probe, YamlWriter& out) {
  out.begin_item();
  out.string("name", probe.name);
  out.string("type", probe.type);
  out.plain("interval", format_duration(probe.interval));
  out.plain("timeout", format_duration(probe.timeout));
  out.plain("failure_threshold", std::to_string(probe.failure_threshold));
  out.plain("success_threshold", std::to_string(probe.success_threshold));
  std::vector<std::string_view> roles;
  for (const Choice<Role>& role : kRoles) {
    if ((probe.roles & role.value) != 0) roles.push_back(role.name);
  }
  out.flow_list("roles", roles);
  // Secret settings of future probe types (password_file's contents, a DSN's password)
  // go through out.secret(), never out.string().
  std::visit(
      [&](const auto& settings) {
        using Settings = std::decay_t<decltype(settings)>;
        if constexpr (std::is_same_v<Settings, DiskProbeConfig>) {
          write_disk(settings, out);
        } else {
          static_assert(std::is_same_v<Settings, MemoryProbeConfig>, "a probe type is not printed");
          write_memory(settings, out);
        }
      },
      probe.settings);
  out.end_item();
}

}  // namespace
}  // namespace detail

std::string print_effective_config(const Config& config) {
  detail::YamlWriter out;
  out.comment("covet-sidecar effective configuration: every setting, defaults included");
  out.string("listen", format_listen_address(config.listen));

  out.begin_mapping("log");
  out.plain("format", detail::name_of<LogFormat>(detail::kLogFormats, config.log.format));
  out.plain("level", detail::name_of<LogLevel>(detail::kLogLevels, config.log.level));
  out.end_mapping();

  out.begin_mapping("shutdown");
  out.plain("drain_delay", format_duration(config.shutdown.drain_delay));
  out.plain("grace_period", format_duration(config.shutdown.grace_period));
  out.end_mapping();

  out.begin_mapping("server");
  out.plain("max_connections", std::to_string(config.server.max_connections));
  out.plain("idle_timeout", format_duration(config.server.idle_timeout));
  out.plain("request_timeout", format_duration(config.server.request_timeout));
  out.end_mapping();

  if (config.probes.empty()) {
    out.flow_list("probes", {});
  } else {
    out.begin_list("probes");
    for (const ProbeConfig& probe : config.probes) detail::write_probe(probe, out);
    out.end_list();
  }
  return out.text();
}

}  // namespace covet::config
