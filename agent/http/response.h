#pragma once
// Responses are serialized once and shared: the health endpoints keep their current
// response as a PreparedResponse and hand out references, so answering a probe costs no
// allocation and no formatting (DESIGN.md: rendered when health changes, not when asked).

#include <memory>
#include <string>

#include "agent/http/types.h"

namespace covet::http {

struct PreparedResponse {
  int status = 200;
  // "HTTP/1.1 200 OK\r\nContent-Type: ...\r\n[Content-Encoding: ...\r\n]Content-Length: N\r\n
  //  [Vary: ...\r\n][Allow: ...\r\n]"
  // The server appends Date, Connection when closing, and the blank line.
  std::string head;
  std::string body;

  static std::shared_ptr<const PreparedResponse> make(const Response& response);
};

using Reply = std::shared_ptr<const PreparedResponse>;

}  // namespace covet::http
