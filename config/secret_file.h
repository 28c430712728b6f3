#pragma once
// Secrets come from files (Kubernetes Secret volumes, compose secrets, systemd credentials),
// never from argv. The contents are never part of an error message.

#include <optional>
#include <string>
#include <string_view>

namespace covet::config {

struct SecretRead {
  std::optional<std::string> value;  // one trailing "\n" or "\r\n" removed
  std::string error;                 // "read password_file /x: No such file or directory"
};
// Refuses files larger than 64 KiB (a secret that large is a mistake, e.g. a wrong path).
SecretRead read_secret_file(const std::string& path);
// The same, naming the config key in errors: `what` = "password_file" gives the message
// above. The one-argument form says "secret file".
SecretRead read_secret_file(const std::string& path, std::string_view what);

}  // namespace covet::config
