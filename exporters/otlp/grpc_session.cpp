#include "exporters/otlp/grpc_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "exporters/otlp/inflate.h"
#include "exporters/otlp/traces.h"

namespace covet::otlp {
namespace {

// Request headers past this are refused with RST_STREAM: a call needs four short ones.
constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
// Larger than HTTP/2's 64 KiB default, so a multi-MiB export does not wait for a
// WINDOW_UPDATE every 64 KiB; the message size limit, not the window, bounds memory.
constexpr std::int32_t kStreamWindow = 1 << 20;
constexpr std::int32_t kConnectionWindow = 4 << 20;

nghttp2_nv header(std::string_view name, std::string_view value) {
  // nghttp2 copies names and values when the response is submitted.
  return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// application/grpc, application/grpc+proto, application/grpc;...: the gRPC content types
// (not application/grpc-web, a different framing).
bool is_grpc_content_type(std::string_view type) {
  constexpr std::string_view grpc = "application/grpc";
  if (type.substr(0, grpc.size()) != grpc) return false;
  return type.size() == grpc.size() || type[grpc.size()] == '+' || type[grpc.size()] == ';';
}

}  // namespace

struct GrpcSession::Call {
  explicit Call(std::int32_t id, std::size_t max_message) : stream_id(id), deframer(max_message) {}

  std::int32_t stream_id;
  std::string method, path, content_type, encoding;
  std::size_t header_bytes = 0;
  grpc::Deframer deframer;
  bool answered = false;       // a response is submitted; later DATA is dropped
  bool request_ended = false;  // the client's END_STREAM came
  bool waiting = false;        // submitted to the Intake, no answer yet
  std::string body;            // the framed response message of an accepted call
  std::size_t body_sent = 0;
};

// nghttp2's C callbacks, forwarding to the session (user_data).
struct SessionCallbacks {
  static GrpcSession& self(void* user_data) { return *static_cast<GrpcSession*>(user_data); }

  static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame,
                              void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto& s = self(user_data);
    auto call =
        std::make_unique<GrpcSession::Call>(frame->hd.stream_id, s.limits_.max_message_bytes);
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, call.get());
    s.calls_[frame->hd.stream_id] = std::move(call);
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t name_length, const std::uint8_t* value, std::size_t value_length,
                       std::uint8_t, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    GrpcSession::Call* call = self(user_data).find(frame->hd.stream_id);
    if (call == nullptr) return 0;
    // RFC 7541's accounting: 32 bytes of overhead per field.
    call->header_bytes += name_length + value_length + 32;
    if (call->header_bytes > kMaxHeaderBytes) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const std::string_view key = as_view(name, name_length);
    const std::string_view text = as_view(value, value_length);
    if (key == ":method")
      call->method = text;
    else if (key == ":path")
      call->path = text;
    else if (key == "content-type")
      call->content_type = text;
    else if (key == "grpc-encoding")
      call->encoding = text;
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    auto& s = self(user_data);
    GrpcSession::Call* call = s.find(frame->hd.stream_id);
    if (call == nullptr) return 0;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      s.on_headers_done(*call);
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) && end_stream) {
      s.on_request_end(*call);
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id,
                           const std::uint8_t* data, std::size_t length, void* user_data) {
    auto& s = self(user_data);
    if (GrpcSession::Call* call = s.find(stream_id)) s.on_data(*call, as_view(data, length));
    return 0;
  }

  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t,
                             void* user_data) {
    auto& s = self(user_data);
    auto it = s.calls_.find(stream_id);
    if (it == s.calls_.end()) return 0;
    // A call reset while the Intake holds it: its answer will find no stream and be dropped.
    if (it->second->waiting) --s.waiting_;
    s.calls_.erase(it);
    return 0;
  }

  static int on_frame_send(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    auto& s = self(user_data);
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
      s.broken_ = true;
      if (s.error_.empty()) {
        s.error_ = std::string("HTTP/2 ") + nghttp2_http2_strerror(frame->goaway.error_code);
      }
      return 0;
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
    // Answered before the client finished sending (an error found early): the rest of its
    // body is not wanted, and RST_STREAM(NO_ERROR) after our END_STREAM says so (RFC 9113
    // §8.1).
    GrpcSession::Call* call = s.find(frame->hd.stream_id);
    if (call != nullptr && !call->request_ended) {
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
    }
    return 0;
  }

  // The DATA of an accepted call's answer; at its end, the trailers (grpc-status 0).
  static ssize_t read_body(nghttp2_session* session, std::int32_t stream_id, std::uint8_t* buf,
                           std::size_t length, std::uint32_t* data_flags,
                           nghttp2_data_source* source, void*) {
    auto& call = *static_cast<GrpcSession::Call*>(source->ptr);
    const std::size_t n = std::min(length, call.body.size() - call.body_sent);
    std::memcpy(buf, call.body.data() + call.body_sent, n);
    call.body_sent += n;
    if (call.body_sent == call.body.size()) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      const nghttp2_nv trailers[] = {header("grpc-status", "0")};
      if (nghttp2_submit_trailer(session, stream_id, trailers, 1) != 0) {
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
      }
    }
    return static_cast<ssize_t>(n);
  }
};

GrpcSession::GrpcSession(Intake& intake, const GrpcLimits& limits, GrpcStats& stats,
                         std::function<void()> wake)
    : intake_(intake),
      limits_(limits),
      stats_(stats),
      wake_(std::move(wake)),
      token_(std::make_shared<GrpcSession*>(this)) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks,
                                                          &SessionCallbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &SessionCallbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &SessionCallbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks,
                                                            &SessionCallbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks,
                                                         &SessionCallbacks::on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &SessionCallbacks::on_frame_send);
  nghttp2_session_server_new(&session_, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);

  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(kStreamWindow)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<std::uint32_t>(kMaxHeaderBytes)},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
}

GrpcSession::~GrpcSession() { nghttp2_session_del(session_); }

bool GrpcSession::receive(std::string_view bytes) {
  if (broken_) return false;
  in_receive_ = true;
  const auto rc = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  in_receive_ = false;
  if (rc < 0) {
    // Fatal for the session (not HTTP/2 at all, a flood): nothing more can be sent on it.
    broken_ = true;
    if (error_.empty()) error_ = nghttp2_strerror(static_cast<int>(rc));
    return false;
  }
  return true;
}

void GrpcSession::output(std::string& out) {
  for (;;) {
    const std::uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session_, &data);
    if (n <= 0) {
      if (n < 0) {
        broken_ = true;
        if (error_.empty()) error_ = nghttp2_strerror(static_cast<int>(n));
      }
      return;
    }
    out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
}

bool GrpcSession::finished() const {
  if (broken_) return true;
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

void GrpcSession::shutdown() {
  if (broken_) return;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

void GrpcSession::terminate(std::uint32_t error_code) {
  if (broken_) return;
  nghttp2_session_terminate_session(session_, error_code);
}

GrpcSession::Call* GrpcSession::find(std::int32_t stream_id) {
  auto it = calls_.find(stream_id);
  return it == calls_.end() ? nullptr : it->second.get();
}

void GrpcSession::on_headers_done(Call& call) {
  ++activity_;
  ++stats_.calls;
  if (call.method != "POST") {
    answer_http(call, 405, "malformed");
  } else if (!is_grpc_content_type(call.content_type)) {
    // PROTOCOL-HTTP2.md: a server should answer a non-gRPC content type with HTTP 415.
    answer_http(call, 415, "malformed");
  } else if (call.path != kTraceExportPath) {
    answer_status(call, grpc::Status::unimplemented, "unknown method " + call.path,
                  "unimplemented");
  }
}

void GrpcSession::on_data(Call& call, std::string_view bytes) {
  ++activity_;
  if (call.answered) return;
  switch (call.deframer.feed(bytes)) {
    case grpc::Deframer::State::too_large:
      answer_status(call, grpc::Status::resource_exhausted,
                    "message larger than " + std::to_string(limits_.max_message_bytes) + " bytes",
                    "too_large");
      break;
    case grpc::Deframer::State::malformed:
      answer_status(call, grpc::Status::internal, call.deframer.error(), "malformed");
      break;
    default:
      break;
  }
}

void GrpcSession::on_request_end(Call& call) {
  call.request_ended = true;
  if (call.answered) return;
  if (call.deframer.finish() != grpc::Deframer::State::complete) {
    answer_status(call, grpc::Status::internal, call.deframer.error(), "malformed");
    return;
  }
  std::string message = call.deframer.take_message();
  if (call.deframer.compressed()) {
    if (call.encoding.empty() || call.encoding == "identity") {
      // PROTOCOL-HTTP2.md: the flag without an encoding is an INTERNAL error.
      answer_status(call, grpc::Status::internal, "compressed message without grpc-encoding",
                    "malformed");
      return;
    }
    if (call.encoding != "gzip") {
      answer_status(call, grpc::Status::unimplemented,
                    "grpc-encoding " + call.encoding + " is not supported", "unsupported_encoding",
                    true);
      return;
    }
    ++stats_.gzip_messages;
    Inflated inflated = gunzip_bounded(message, limits_.max_message_bytes);
    if (inflated.outcome == Inflated::Outcome::too_large) {
      answer_status(call, grpc::Status::resource_exhausted,
                    "decompressed message larger than " +
                        std::to_string(limits_.max_message_bytes) + " bytes",
                    "too_large");
      return;
    }
    if (inflated.outcome == Inflated::Outcome::malformed) {
      answer_status(call, grpc::Status::internal, "gzip: " + inflated.error, "malformed");
      return;
    }
    message = std::move(inflated.data);
  }
  call.waiting = true;
  ++waiting_;
  // The Intake may answer now or later; later, the session or the stream may be gone.
  intake_.submit(std::move(message), protocol_grpc,
                 [token = std::weak_ptr<GrpcSession*>(token_),
                  stream_id = call.stream_id](Admission admission) {
                   if (auto alive = token.lock())
                     (*alive)->on_admission(stream_id, std::move(admission));
                 });
}

void GrpcSession::on_admission(std::int32_t stream_id, Admission admission) {
  Call* call = find(stream_id);
  if (call == nullptr || !call->waiting) return;
  call->waiting = false;
  --waiting_;
  ++activity_;
  switch (admission.outcome) {
    case Admission::Outcome::accepted:
      answer_ok(*call, encode_response(admission.rejected_spans, admission.message));
      break;
    case Admission::Outcome::invalid:
      answer_status(*call, grpc::Status::invalid_argument, admission.message, "");
      break;
    case Admission::Outcome::full:
      answer_unavailable(*call, admission);
      break;
  }
  // Inside receive() the owner collects the output anyway, and nghttp2 must not be asked
  // for output from within its own callbacks.
  if (!in_receive_ && wake_) wake_();
}

void GrpcSession::answer_status(Call& call, grpc::Status status, std::string_view message,
                                std::string_view refusal, bool accept_encoding) {
  call.answered = true;
  const int code = static_cast<int>(status);
  const std::string code_text = std::to_string(code);
  const std::string encoded = grpc::percent_encode(message);
  std::vector<nghttp2_nv> headers = {header(":status", "200"),
                                     header("content-type", "application/grpc"),
                                     header("grpc-status", code_text)};
  if (!encoded.empty()) headers.push_back(header("grpc-message", encoded));
  if (accept_encoding) headers.push_back(header("grpc-accept-encoding", "gzip,identity"));
  // Trailers-only: one HEADERS frame with END_STREAM.
  nghttp2_submit_response(session_, call.stream_id, headers.data(), headers.size(), nullptr);
  ++stats_.calls_by_status[code];
  if (!refusal.empty()) intake_.refused_request(refusal);
}

void GrpcSession::answer_http(Call& call, int http_status, std::string_view refusal) {
  call.answered = true;
  const std::string status_text = std::to_string(http_status);
  const nghttp2_nv headers[] = {header(":status", status_text)};
  nghttp2_submit_response(session_, call.stream_id, headers, std::size(headers), nullptr);
  ++stats_.http_refusals;
  intake_.refused_request(refusal);
}

void GrpcSession::answer_ok(Call& call, std::string body) {
  call.answered = true;
  call.body = grpc::frame_message(body);
  const nghttp2_nv headers[] = {header(":status", "200"),
                                header("content-type", "application/grpc")};
  nghttp2_data_provider provider{};
  provider.source.ptr = &call;
  provider.read_callback = &SessionCallbacks::read_body;
  nghttp2_submit_response(session_, call.stream_id, headers, std::size(headers), &provider);
  ++stats_.calls_by_status[0];
}

void GrpcSession::answer_unavailable(Call& call, const Admission& admission) {
  call.answered = true;
  const std::string message =
      admission.message.empty() ? "queue full, retry later" : admission.message;
  const std::string details = grpc::base64_encode(grpc::status_with_retry_info(
      static_cast<int>(grpc::Status::unavailable), message, admission.retry_after));
  const std::string encoded = grpc::percent_encode(message);
  const nghttp2_nv headers[] = {header(":status", "200"),
                                header("content-type", "application/grpc"),
                                header("grpc-status", "14"), header("grpc-message", encoded),
                                header("grpc-status-details-bin", details)};
  nghttp2_submit_response(session_, call.stream_id, headers, std::size(headers), nullptr);
  ++stats_.calls_by_status[static_cast<int>(grpc::Status::unavailable)];
}

}  // namespace covet::otlp
