#pragma once
// Keeps a loopback TCP port for a server that is down and will come back on the same port
// (an outage in a test). Without it, the kernel can hand the port to another test running
// beside this one: as a free port for its own server, or as the source port of an outgoing
// connection, which to this very port is a connection to itself. The sidecar would then
// export to a stranger and the "restarted" server would never receive anything.
//
// The hold is a socket bound with SO_REUSEADDR that never listens: connecting to the port is
// still refused, as in a real outage; bind(0) and connect() never choose it; a server that
// binds it by number with SO_REUSEADDR (node, redis-server, postgres all do) still can, so the
// hold can stay until the server listens again.

#include <cstdint>

namespace covet::testing {

class PortHold {
 public:
  // Binds 127.0.0.1:port; held() says whether that worked.
  explicit PortHold(std::uint16_t port);
  ~PortHold();
  PortHold(const PortHold&) = delete;
  PortHold& operator=(const PortHold&) = delete;

  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace covet::testing
