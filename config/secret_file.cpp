#include "config/secret_file.h"

#include "config/file_read.h"

namespace covet::config {
namespace detail {
namespace {

constexpr std::size_t kMaxSecretBytes = 64 * 1024;

}  // namespace
}  // namespace detail

SecretRead read_secret_file(const std::string& path) {
  return read_secret_file(path, "secret file");
}

SecretRead read_secret_file(const std::string& path, std::string_view what) {
  detail::FileRead read = detail::read_regular_file(path, detail::kMaxSecretBytes);
  if (!read.contents) {
    // Only the reason: the contents must never reach a message or a log line.
    std::string error = "read ";
    error += what;
    error += ' ';
    error += path;
    error += ": ";
    error += read.reason;
    return {std::nullopt, std::move(error)};
  }
  std::string secret = std::move(*read.contents);
  // Editors and `echo` add a final newline that is never part of the secret.
  if (secret.ends_with("\r\n")) {
    secret.resize(secret.size() - 2);
  } else if (secret.ends_with('\n')) {
    secret.pop_back();
  }
  return {std::move(secret), {}};
}

}  // namespace covet::config
