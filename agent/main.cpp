#include <curl/curl.h>

#include <iostream>
#include <string>
#include <vector>

#include "agent/cli.h"
#include "agent/heap.h"

int main(int argc, char** argv) {
  covet::configure_heap();
  // libcurl's global state is set up once, before any thread exists.
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const std::vector<std::string> args(argv + 1, argv + argc);
  const int code = covet::run_cli(args, std::cout, std::cerr);
  curl_global_cleanup();
  return code;
}
