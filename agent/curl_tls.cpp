#include "agent/curl_tls.h"

#include <fmt/format.h>

namespace covet::net {

curl_slist* apply_client_tls(CURL* easy, const std::string& url_text,
                             const config::ScrapeTlsConfig& tls) {
  curl_slist* connect_to = nullptr;
  if (!tls.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, tls.ca_file.c_str());
  if (!tls.cert_file.empty()) curl_easy_setopt(easy, CURLOPT_SSLCERT, tls.cert_file.c_str());
  if (!tls.key_file.empty()) curl_easy_setopt(easy, CURLOPT_SSLKEY, tls.key_file.c_str());
  if (tls.insecure_skip_verify) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!tls.server_name.empty()) {
    CURLU* url = curl_url();
    char* host = nullptr;
    char* port = nullptr;
    if (curl_url_set(url, CURLUPART_URL, url_text.c_str(), 0) == CURLUE_OK &&
        curl_url_get(url, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
        curl_url_set(url, CURLUPART_HOST, tls.server_name.c_str(), 0) == CURLUE_OK) {
      char* rewritten = nullptr;
      if (curl_url_get(url, CURLUPART_URL, &rewritten, 0) == CURLUE_OK) {
        curl_easy_setopt(easy, CURLOPT_URL, rewritten);
        curl_free(rewritten);
        connect_to = curl_slist_append(
            nullptr, fmt::format("{}:{}:{}:{}", tls.server_name, port, host, port).c_str());
        curl_easy_setopt(easy, CURLOPT_CONNECT_TO, connect_to);
      }
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(url);
  }
  return connect_to;
}

}  // namespace covet::net
