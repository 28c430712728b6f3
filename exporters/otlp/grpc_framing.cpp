#include "exporters/otlp/grpc_framing.h"

#include <algorithm>

#include "exporters/hex.h"
#include "exporters/otlp/wire.h"

namespace covet::otlp::grpc {

Deframer::State Deframer::fail(State state, const char* why) {
  state_ = state;
  error_ = why;
  message_.clear();
  message_.shrink_to_fit();
  return state_;
}

Deframer::State Deframer::feed(std::string_view bytes) {
  if (state_ == State::too_large || state_ == State::malformed) return state_;
  if (state_ == State::complete) {
    if (bytes.empty()) return state_;
    // A unary call carries exactly one message.
    return fail(State::malformed, "more than one request message");
  }
  if (prefix_filled_ < kPrefixBytes) {
    const std::size_t take = std::min(kPrefixBytes - prefix_filled_, bytes.size());
    std::copy_n(bytes.data(), take, prefix_ + prefix_filled_);
    prefix_filled_ += take;
    bytes.remove_prefix(take);
    if (prefix_filled_ < kPrefixBytes) return state_;
    if (prefix_[0] > 1) return fail(State::malformed, "invalid compressed flag");
    length_ = (std::uint32_t{prefix_[1]} << 24) | (std::uint32_t{prefix_[2]} << 16) |
              (std::uint32_t{prefix_[3]} << 8) | std::uint32_t{prefix_[4]};
    if (length_ > max_) return fail(State::too_large, "message larger than the limit");
    // The length is bounded by the limit, so reserving it is bounded too.
    message_.reserve(length_);
  }
  const std::size_t missing = length_ - message_.size();
  const std::size_t take = std::min(missing, bytes.size());
  message_.append(bytes.data(), take);
  bytes.remove_prefix(take);
  if (message_.size() < length_) return state_;
  state_ = State::complete;
  if (!bytes.empty()) return fail(State::malformed, "more than one request message");
  return state_;
}

Deframer::State Deframer::finish() {
  if (state_ != State::need_more) return state_;
  return fail(State::malformed,
              prefix_filled_ == 0 ? "no request message" : "truncated request message");
}

std::string frame_message(std::string_view payload) {
  std::string out;
  out.reserve(kPrefixBytes + payload.size());
  const auto length = static_cast<std::uint32_t>(payload.size());
  out.push_back('\0');
  out.push_back(static_cast<char>(length >> 24));
  out.push_back(static_cast<char>(length >> 16));
  out.push_back(static_cast<char>(length >> 8));
  out.push_back(static_cast<char>(length));
  out.append(payload);
  return out;
}

namespace {

using text::hex_value;

constexpr char kHex[] = "0123456789ABCDEF";

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string percent_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte <= 0x7e && byte != '%') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  return out;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(kBase64[(n >> 6) & 63]);
    out.push_back(kBase64[n & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) n |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 == 0 && !text.empty()) {
    // Padded: strip up to two '='; unpadded input never ends in '='.
    if (text.back() == '=') text.remove_suffix(1);
    if (text.back() == '=') text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    const int value = base64_value(c);
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    if (++count == 4) {
      out.push_back(static_cast<char>(bits >> 16));
      out.push_back(static_cast<char>(bits >> 8));
      out.push_back(static_cast<char>(bits));
      bits = 0;
      count = 0;
    }
  }
  // The unused low bits of a final partial group must be zero (canonical encoding).
  if (count == 2) {
    if ((bits & 0xf) != 0) return std::nullopt;
    out.push_back(static_cast<char>(bits >> 4));
  } else if (count == 3) {
    if ((bits & 0x3) != 0) return std::nullopt;
    out.push_back(static_cast<char>(bits >> 10));
    out.push_back(static_cast<char>(bits >> 2));
  }
  return out;
}

std::string status_with_retry_info(int code, std::string_view message,
                                   std::chrono::seconds retry_delay) {
  using namespace wire;
  std::string duration;  // google.protobuf.Duration{seconds = 1}
  if (retry_delay.count() != 0) put_int64_field(duration, 1, retry_delay.count());
  std::string retry_info;  // google.rpc.RetryInfo{retry_delay = 1}
  put_bytes_field(retry_info, 1, duration);
  std::string any;  // google.protobuf.Any{type_url = 1, value = 2}
  put_bytes_field(any, 1, "type.googleapis.com/google.rpc.RetryInfo");
  put_bytes_field(any, 2, retry_info);
  std::string status;  // google.rpc.Status{code = 1, message = 2, details = 3}
  if (code != 0) put_int64_field(status, 1, code);
  if (!message.empty()) put_bytes_field(status, 2, message);
  put_bytes_field(status, 3, any);
  return status;
}

}  // namespace covet::otlp::grpc
