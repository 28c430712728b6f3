#pragma once
// A client's TLS settings (CA file, client certificate, server name, verification) applied
// to a curl easy handle: shared by every outbound HTTPS client (scraping, span export).

#include <curl/curl.h>

#include <string>

#include "config/config.h"

namespace covet::net {

// Sets the TLS options on `easy`, which fetches `url`. With tls.server_name, SNI and the
// certificate check use that name while the connection still goes to the URL's host: the
// URL is rewritten to the name and curl told where that name really is (CURLOPT_CONNECT_TO).
// Returns the list CURLOPT_CONNECT_TO points at (nullptr when none): the caller frees it
// with curl_slist_free_all after the handle's last transfer.
curl_slist* apply_client_tls(CURL* easy, const std::string& url,
                             const config::ScrapeTlsConfig& tls);

}  // namespace covet::net
