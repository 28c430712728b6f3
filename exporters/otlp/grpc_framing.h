#pragma once
// The gRPC-over-HTTP/2 pieces that are neither HTTP/2 nor protobuf
// (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): the length-prefixed
// message framing of a request body, grpc-message's percent-encoding, base64 for binary
// (-bin) metadata, and the google.rpc.Status with RetryInfo that OTLP asks a server to send
// with UNAVAILABLE.
//
// Pure: no I/O, so it is fuzzed directly (tests/fuzz/grpc_framing_fuzz.cpp).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace covet::otlp::grpc {

// The status codes a receiver answers with (grpc/include/grpcpp/impl/codegen/status_code_enum.h).
enum class Status : int {
  ok = 0,
  invalid_argument = 3,
  resource_exhausted = 8,
  unimplemented = 12,
  internal = 13,
  unavailable = 14,
};
inline constexpr int kStatusCodes = 17;  // 0 (OK) .. 16 (UNAUTHENTICATED)

// A message on the wire: 1 byte compressed flag, 4 bytes big-endian length, the payload.
inline constexpr std::size_t kPrefixBytes = 5;

// Reassembles the one message of a unary call from DATA frames of any size. The declared
// length is checked against the limit as soon as the prefix is in, before anything is
// buffered, so an oversized call costs five bytes of memory.
class Deframer {
 public:
  enum class State {
    need_more,  // no complete message yet
    complete,   // one message, nothing after it (so far)
    too_large,  // declared length over the limit: stop feeding
    malformed,  // flag byte not 0 or 1, or bytes after the message: stop feeding
  };

  explicit Deframer(std::size_t max_message_bytes) : max_(max_message_bytes) {}

  // Consumes `bytes`; once the state is too_large or malformed, further bytes are ignored.
  State feed(std::string_view bytes);
  // At the end of the stream: complete, or malformed when no whole message came (an empty
  // body or a truncated message), or the error already found.
  State finish();
  State state() const { return state_; }
  // Valid once complete.
  bool compressed() const { return prefix_[0] == 1; }
  std::uint32_t declared_length() const { return length_; }
  std::string take_message() { return std::move(message_); }
  // Why malformed, for grpc-message.
  const char* error() const { return error_; }

 private:
  State fail(State state, const char* why);

  std::size_t max_;
  State state_ = State::need_more;
  unsigned char prefix_[kPrefixBytes] = {};
  std::size_t prefix_filled_ = 0;
  std::uint32_t length_ = 0;
  std::string message_;
  const char* error_ = nullptr;
};

// Prefixes an uncompressed message: what a response's DATA carries.
std::string frame_message(std::string_view payload);

// grpc-message's encoding: bytes outside 0x20..0x7E, and '%', become %XX (upper-case hex);
// UTF-8 text passes through byte by byte, as the spec says.
std::string percent_encode(std::string_view text);
// The inverse, lenient as the spec asks of readers: a malformed %-sequence stays as is.
std::string percent_decode(std::string_view text);

// Standard base64 (RFC 4648 §4) with padding: gRPC reads padded and unpadded -bin values.
std::string base64_encode(std::string_view bytes);
// Accepts padded and unpadded input; nullopt on any other character or a bad length.
std::optional<std::string> base64_decode(std::string_view text);

// google.rpc.Status{code, message, details=[Any{google.rpc.RetryInfo{retry_delay}}]}: the
// binary value of grpc-status-details-bin with which OTLP tells a client when to retry.
std::string status_with_retry_info(int code, std::string_view message,
                                   std::chrono::seconds retry_delay);

}  // namespace covet::otlp::grpc
