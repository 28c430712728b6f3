#pragma once
// A minimal HTTP/2 gRPC client for the tests, on nghttp2's client session: it builds the
// bytes of calls, reads the bytes of answers, and keeps each stream's headers, DATA and
// trailers as they came. H2Client is bytes in, bytes out (for driving a GrpcSession in
// memory); SocketClient runs one over a blocking TCP socket (for a real GrpcReceiver).
//
// Header-only: it needs nghttp2, which the test executables get through covet_core.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace covet::testing {

// The 5-byte gRPC prefix and the payload; `compressed` sets the flag only.
inline std::string grpc_frame(std::string_view payload, bool compressed = false) {
  std::string out(1, compressed ? '\1' : '\0');
  const auto n = static_cast<std::uint32_t>(payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  out.append(payload);
  return out;
}

inline std::string gzip_bytes(std::string_view input) {
  z_stream stream{};
  deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, input.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

class H2Client {
 public:
  struct Response {
    std::map<std::string, std::string> headers;
    std::map<std::string, std::string> trailers;
    std::string data;
    bool closed = false;
    std::uint32_t close_error = 0;  // the RST_STREAM error code, 0 when none
    int http_status() const {
      auto it = headers.find(":status");
      return it == headers.end() ? 0 : std::stoi(it->second);
    }
    // From the trailers, or from the headers of a trailers-only answer; -1 when absent.
    int grpc_status() const {
      auto it = trailers.find("grpc-status");
      if (it != trailers.end()) return std::stoi(it->second);
      it = headers.find("grpc-status");
      return it == headers.end() ? -1 : std::stoi(it->second);
    }
    std::string metadata(const std::string& name) const {
      auto it = trailers.find(name);
      if (it != trailers.end()) return it->second;
      it = headers.find(name);
      return it == headers.end() ? "" : it->second;
    }
  };

  H2Client() {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &H2Client::on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &H2Client::on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &H2Client::on_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &H2Client::on_frame);
    nghttp2_session_client_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~H2Client() { nghttp2_session_del(session_); }
  H2Client(const H2Client&) = delete;
  H2Client& operator=(const H2Client&) = delete;

  // A POST with `body` as given (frame it with grpc_frame). Headers default to a gRPC
  // call; `extra` are appended, `content_type` empty leaves it out.
  std::int32_t call(
      std::string body,
      std::string path = "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
      std::vector<std::pair<std::string, std::string>> extra = {},
      std::string content_type = "application/grpc", std::string method = "POST") {
    std::vector<std::pair<std::string, std::string>> fields = {
        {":method", method}, {":scheme", "http"}, {":authority", "127.0.0.1"}, {":path", path}};
    if (!content_type.empty()) fields.emplace_back("content-type", content_type);
    fields.emplace_back("te", "trailers");
    for (auto& field : extra) fields.push_back(std::move(field));
    std::vector<nghttp2_nv> nva;
    for (auto& [name, value] : fields) {
      nva.push_back({reinterpret_cast<std::uint8_t*>(name.data()),
                     reinterpret_cast<std::uint8_t*>(value.data()), name.size(), value.size(),
                     NGHTTP2_NV_FLAG_NONE});
    }
    auto source = std::make_unique<Body>();
    source->bytes = std::move(body);
    nghttp2_data_provider provider{};
    provider.source.ptr = source.get();
    provider.read_callback = &H2Client::read_body;
    const std::int32_t id =
        nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), &provider, nullptr);
    bodies_.push_back(std::move(source));
    if (id > 0) responses_[id];
    return id;
  }

  void ping() { nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr); }

  std::string output() {
    std::string out;
    for (;;) {
      const std::uint8_t* data = nullptr;
      const auto n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) return out;
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
  }
  bool receive(std::string_view bytes) {
    return nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                    bytes.size()) >= 0;
  }

  Response& response(std::int32_t id) { return responses_[id]; }
  bool all_closed() const {
    for (const auto& [id, response] : responses_) {
      if (!response.closed) return false;
    }
    return true;
  }
  bool goaway = false;
  std::uint32_t goaway_error = 0;
  std::int32_t goaway_last_stream = -1;

 private:
  struct Body {
    std::string bytes;
    std::size_t sent = 0;
  };

  static H2Client& self(void* user) { return *static_cast<H2Client*>(user); }

  static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags, nghttp2_data_source* source, void*) {
    auto& body = *static_cast<Body*>(source->ptr);
    const std::size_t n = std::min(length, body.bytes.size() - body.sent);
    std::memcpy(buf, body.bytes.data() + body.sent, n);
    body.sent += n;
    if (body.sent == body.bytes.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* user) {
    auto& response = self(user).responses_[frame->hd.stream_id];
    auto& target =
        frame->headers.cat == NGHTTP2_HCAT_HEADERS ? response.trailers : response.headers;
    target[std::string(reinterpret_cast<const char*>(name), namelen)] =
        std::string(reinterpret_cast<const char*>(value), valuelen);
    return 0;
  }
  static int on_data(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                     std::size_t len, void* user) {
    self(user).responses_[id].data.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int on_close(nghttp2_session*, std::int32_t id, std::uint32_t error, void* user) {
    auto& response = self(user).responses_[id];
    response.closed = true;
    response.close_error = error;
    return 0;
  }
  static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      self(user).goaway = true;
      self(user).goaway_error = frame->goaway.error_code;
      self(user).goaway_last_stream = frame->goaway.last_stream_id;
    }
    return 0;
  }

  nghttp2_session* session_ = nullptr;
  std::vector<std::unique_ptr<Body>> bodies_;
  std::map<std::int32_t, Response> responses_;
};

// An H2Client over a blocking TCP connection to 127.0.0.1:port.
class SocketClient {
 public:
  explicit SocketClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~SocketClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  SocketClient(const SocketClient&) = delete;
  SocketClient& operator=(const SocketClient&) = delete;

  bool connected() const { return connected_; }
  H2Client& h2() { return h2_; }

  // Sends bytes as they are (garbage, HTTP/1.1), not through the HTTP/2 session.
  bool send_raw(std::string_view bytes) { return send_all(bytes); }

  // Sends what the session has, then reads and answers until `done` holds, the server
  // closes the connection, or `timeout` passes. True when `done` held.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!send_all(h2_.output())) return done();
      if (done()) return true;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return done();
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        peer_closed_ = true;
        return done();
      }
      received_bytes_ += static_cast<std::size_t>(n);
      if (!h2_.receive({buf, static_cast<std::size_t>(n)})) {
        protocol_error_ = true;
        return done();
      }
    }
  }
  // Reads until the server closes the connection (true) or `timeout` passes (false),
  // without parsing what comes.
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return true;
      raw_received_.append(buf, static_cast<std::size_t>(n));
    }
  }
  bool peer_closed() const { return peer_closed_; }
  const std::string& raw_received() const { return raw_received_; }

 private:
  bool send_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool peer_closed_ = false;
  bool protocol_error_ = false;
  std::size_t received_bytes_ = 0;
  std::string raw_received_;
  H2Client h2_;
};

}  // namespace covet::testing
