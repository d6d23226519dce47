# models/onnx.cmake — ONNX protobuf support for baleen_lib (included from the top level).
#
# Generates onnx.pb-c.c/.h at build time with protoc-c (Debian protobuf-c-compiler) from
# Debian's onnx.proto (libonnx-dev), into ${CMAKE_BINARY_DIR}/generated/, adds them to
# baleen_lib and links libprotobuf-c. No protobuf parsing is written by hand.
# Override the proto with -DBL_ONNX_PROTO=/path/to/onnx.proto.

find_program(BL_PROTOC_C NAMES protoc-c protoc-gen-c
             DOC "protoc-c from protobuf-c-compiler (Debian/Ubuntu: apt install protobuf-c-compiler)")
if(NOT BL_PROTOC_C)
  message(FATAL_ERROR "protoc-c not found: install protobuf-c-compiler (scripts/install-deps.sh)")
endif()

set(BL_ONNX_PROTO "/usr/include/onnx/onnx.proto" CACHE FILEPATH "onnx.proto that protoc-c compiles")
if(NOT EXISTS "${BL_ONNX_PROTO}")
  message(FATAL_ERROR "onnx.proto not found at ${BL_ONNX_PROTO}: install libonnx-dev or set -DBL_ONNX_PROTO=...")
endif()

pkg_check_modules(PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)

# The proto is copied first so that protoc-c runs on a file in the generated folder itself:
# the outputs are then named onnx.pb-c.{c,h} with a plain #include "onnx.pb-c.h".
set(BL_ONNX_GEN_DIR ${CMAKE_BINARY_DIR}/generated)
file(MAKE_DIRECTORY ${BL_ONNX_GEN_DIR})
add_custom_command(
  OUTPUT ${BL_ONNX_GEN_DIR}/onnx.pb-c.c ${BL_ONNX_GEN_DIR}/onnx.pb-c.h
  COMMAND ${CMAKE_COMMAND} -E copy ${BL_ONNX_PROTO} ${BL_ONNX_GEN_DIR}/onnx.proto
  COMMAND ${BL_PROTOC_C} --proto_path=${BL_ONNX_GEN_DIR} --c_out=${BL_ONNX_GEN_DIR} ${BL_ONNX_GEN_DIR}/onnx.proto
  DEPENDS ${BL_ONNX_PROTO}
  COMMENT "protoc-c: generating onnx.pb-c.c from ${BL_ONNX_PROTO}"
  VERBATIM)

target_sources(baleen_lib PRIVATE ${BL_ONNX_GEN_DIR}/onnx.pb-c.c ${BL_ONNX_GEN_DIR}/onnx.pb-c.h)
# Generated code is not ours to keep warning-free under -Wall -Wextra -Werror.
set_source_files_properties(${BL_ONNX_GEN_DIR}/onnx.pb-c.c PROPERTIES GENERATED TRUE COMPILE_OPTIONS "-w")
target_link_libraries(baleen_lib PUBLIC PkgConfig::PROTOBUF_C)

# The CPU executor (models/exec_cpu.c, cpu_*.c): oneDNN's C API (Debian libdnnl-dev), and
# OpenMP because Debian builds oneDNN on the OpenMP runtime: the executor sets the calling
# thread's OpenMP thread count and parallelises its plain-C kernels with the same team.
find_path(BL_DNNL_INCLUDE dnnl.h DOC "oneDNN headers (Debian: apt install libdnnl-dev)")
find_library(BL_DNNL_LIB NAMES dnnl DOC "oneDNN library (Debian: apt install libdnnl-dev)")
if(NOT BL_DNNL_INCLUDE OR NOT BL_DNNL_LIB)
  message(FATAL_ERROR "oneDNN not found: install libdnnl-dev (scripts/install-deps.sh)")
endif()
find_package(OpenMP REQUIRED COMPONENTS C)
target_include_directories(baleen_lib PUBLIC ${BL_DNNL_INCLUDE})
target_link_libraries(baleen_lib PUBLIC ${BL_DNNL_LIB} OpenMP::OpenMP_C)
