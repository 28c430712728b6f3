#include "probes/factory.h"

#include <type_traits>

#include "probes/disk.h"
#include "probes/http.h"
#include "probes/memory.h"
#include "probes/postgres.h"
#include "probes/process.h"
#include "probes/redis.h"
#include "probes/tcp.h"
#include "probes/tls.h"

namespace covet::probes {

std::unique_ptr<Probe> make_probe(uv_loop_t* loop, const config::ProbeConfig& config) {
  return std::visit(
      [loop](const auto& settings) -> std::unique_ptr<Probe> {
        using Settings = std::decay_t<decltype(settings)>;
        if constexpr (std::is_same_v<Settings, config::DiskProbeConfig>) {
          return std::make_unique<DiskProbe>(loop, settings);
        } else if constexpr (std::is_same_v<Settings, config::HttpProbeConfig>) {
          return std::make_unique<HttpProbe>(loop, settings);
        } else if constexpr (std::is_same_v<Settings, config::TcpProbeConfig>) {
          return std::make_unique<TcpProbe>(loop, settings);
        } else if constexpr (std::is_same_v<Settings, config::PostgresProbeConfig>) {
          return std::make_unique<PostgresProbe>(loop, settings);
        } else if constexpr (std::is_same_v<Settings, config::RedisProbeConfig>) {
          return std::make_unique<RedisProbe>(loop, settings);
        } else if constexpr (std::is_same_v<Settings, config::ProcessProbeConfig>) {
          return std::make_unique<ProcessProbe>(loop, settings);
        } else if constexpr (std::is_same_v<Settings, config::TlsProbeConfig>) {
          return std::make_unique<TlsProbe>(loop, settings);
        } else {
          static_assert(std::is_same_v<Settings, config::MemoryProbeConfig>);
          return std::make_unique<MemoryProbe>(settings);
        }
      },
      config.settings);
}

}  // namespace covet::probes
