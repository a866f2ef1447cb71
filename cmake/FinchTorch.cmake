# libtorch, from the PyPI torch wheel (scripts/setup.sh) or a user's own
# libtorch found through Torch_DIR / CMAKE_PREFIX_PATH.
#
# We link libtorch's libraries directly rather than through its CMake config:
# that config insists on a CUDA toolkit for a CUDA libtorch and links the
# toolkit's runtime over the one the wheel ships. Here a CUDA libtorch always
# links its CUDA backend (GPUs work at run time with or without a toolkit),
# and when the CUDA toolkit is present CUDA code compiles too (FINCH_CUDA).
include_guard(GLOBAL)

find_path(FINCH_TORCH_CMAKE_DIR TorchConfig.cmake
  PATH_SUFFIXES share/cmake/Torch
  HINTS ${Torch_DIR} ENV Torch_DIR)
if(NOT FINCH_TORCH_CMAKE_DIR)
  message(FATAL_ERROR "libtorch not found: run scripts/setup.sh, or point Torch_DIR or CMAKE_PREFIX_PATH at a libtorch")
endif()
get_filename_component(FINCH_TORCH_ROOT "${FINCH_TORCH_CMAKE_DIR}/../../.." ABSOLUTE)

add_library(finch_torch INTERFACE)
add_library(finch::torch ALIAS finch_torch)
target_include_directories(finch_torch SYSTEM INTERFACE
  "${FINCH_TORCH_ROOT}/include" "${FINCH_TORCH_ROOT}/include/torch/csrc/api/include")
foreach(lib torch torch_cpu c10)
  target_link_libraries(finch_torch INTERFACE "${FINCH_TORCH_ROOT}/lib/lib${lib}.so")
endforeach()
# fmt: the copy that ships with libtorch's headers, header-only, so there is
# exactly one fmt in the process.
target_compile_definitions(finch_torch INTERFACE FMT_HEADER_ONLY=1)
target_link_options(finch_torch INTERFACE "LINKER:-rpath,${FINCH_TORCH_ROOT}/lib")
# libstdc++ first among the needed libraries: some libtorch builds (the torch
# 2.11 wheel) export their own copies of std::filesystem functions, and the
# dynamic linker would otherwise bind ours to those (seen on an H200 machine:
# std::filesystem::remove_all resolved into libtorch.so and jumped to null).
target_link_options(finch_torch INTERFACE "SHELL:-Wl,--push-state,--no-as-needed -lstdc++ -Wl,--pop-state")

set(FINCH_CUDA OFF)
if(EXISTS "${FINCH_TORCH_ROOT}/lib/libtorch_cuda.so")
  # Loaded even though nothing references it by symbol: it registers the CUDA backend.
  target_link_libraries(finch_torch INTERFACE
    -Wl,--no-as-needed "${FINCH_TORCH_ROOT}/lib/libtorch_cuda.so" "${FINCH_TORCH_ROOT}/lib/libc10_cuda.so"
    -Wl,--as-needed)
  # The wheel's CUDA libraries (nvidia/*/lib beside torch/) resolve libtorch_cuda's
  # dependencies at link time, ahead of any system copy.
  file(GLOB _nvidia_lib_dirs LIST_DIRECTORIES true "${FINCH_TORCH_ROOT}/../nvidia/*/lib")
  foreach(dir ${_nvidia_lib_dirs})
    target_link_options(finch_torch INTERFACE "LINKER:-rpath-link,${dir}")
  endforeach()
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND)
    # No GPU is needed to compile: name the target architectures.
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)
    endif()
    enable_language(CUDA)
    target_include_directories(finch_torch SYSTEM INTERFACE ${CUDAToolkit_INCLUDE_DIRS})
    target_compile_definitions(finch_torch INTERFACE FINCH_CUDA=1)
    set(FINCH_CUDA ON)
  endif()
endif()
message(STATUS "finch: libtorch at ${FINCH_TORCH_ROOT} (CUDA code compiled: ${FINCH_CUDA})")
