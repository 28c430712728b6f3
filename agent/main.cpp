#include <curl/curl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <iostream>
#include <string>
#include <vector>

#include "agent/cli.h"

namespace {

// A scraped page is parsed on a pool thread into many small allocations and freed again,
// once per fetch. With glibc's defaults each pool thread keeps its own arena and the
// threshold for mapping large buffers on their own grows with every large free, so the
// memory of the largest page ever parsed stays resident (bench/scrape.sh measured 300-680
// bytes per re-exported series; with these settings, the text we serve and little more).
void bound_resident_memory() {
#if defined(__GLIBC__)
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  bound_resident_memory();
  // libcurl's global state is set up once, before any thread exists.
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const std::vector<std::string> args(argv + 1, argv + argc);
  const int code = covet::run_cli(args, std::cout, std::cerr);
  curl_global_cleanup();
  return code;
}
