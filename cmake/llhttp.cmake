# Debian's node-llhttp ships llhttp's generated C sources, not a library: build them here.
# They trip -Wextra (unused parameters), so this target is compiled without -Werror.
set(LLHTTP_SOURCE_DIR /usr/share/llhttp CACHE PATH "Directory holding llhttp's api.c, http.c, llhttp.c")
set(LLHTTP_INCLUDE_DIR /usr/share/include/llhttp CACHE PATH "Directory holding llhttp.h")
foreach(f api.c http.c llhttp.c)
  if(NOT EXISTS ${LLHTTP_SOURCE_DIR}/${f})
    message(FATAL_ERROR "llhttp source ${LLHTTP_SOURCE_DIR}/${f} not found: install node-llhttp")
  endif()
endforeach()
add_library(covet_llhttp STATIC
  ${LLHTTP_SOURCE_DIR}/api.c ${LLHTTP_SOURCE_DIR}/http.c ${LLHTTP_SOURCE_DIR}/llhttp.c)
target_include_directories(covet_llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE_DIR})
target_compile_options(covet_llhttp PRIVATE -w)
set_target_properties(covet_llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON)
