#include "agent/heap.h"

#include <cstdlib>  // defines __GLIBC__ (through <features.h>) when it applies

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace covet {

void configure_heap() {
#if defined(__GLIBC__)
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
#endif
}

void release_free_heap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace covet
