# Arrow and Parquet C++ (for .parquet datasets), from the PyPI pyarrow wheel
# in FINCH_PYTHON's environment (scripts/setup.sh installs it): its headers
# (pyarrow/include) and versioned libraries (libarrow.so.NNNN,
# libparquet.so.NNNN) beside the package. The wheel ships no unversioned .so
# links nor a usable CMake config, so the libraries are linked by full path,
# with an rpath to find them at run time. Both the wheel and libtorch use the
# C++11 ABI of libstdc++, so they share one process (table_reader tests check).
include_guard(GLOBAL)

execute_process(
  COMMAND "${FINCH_PYTHON}" -c "import pyarrow; print(pyarrow.get_include()); print(pyarrow.get_library_dirs()[0]); print(pyarrow.__version__)"
  OUTPUT_VARIABLE _pyarrow_out RESULT_VARIABLE _pyarrow_rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _pyarrow_rc EQUAL 0)
  message(FATAL_ERROR "pyarrow not found by ${FINCH_PYTHON}: run scripts/setup.sh, or set FINCH_PYTHON to a Python with pyarrow")
endif()
string(REPLACE "\n" ";" _pyarrow_out "${_pyarrow_out}")
list(GET _pyarrow_out 0 FINCH_ARROW_INCLUDE_DIR)
list(GET _pyarrow_out 1 FINCH_ARROW_LIB_DIR)
list(GET _pyarrow_out 2 FINCH_ARROW_VERSION)

add_library(finch_arrow INTERFACE)
add_library(finch::arrow ALIAS finch_arrow)
target_include_directories(finch_arrow SYSTEM INTERFACE "${FINCH_ARROW_INCLUDE_DIR}")
foreach(lib parquet arrow)
  file(GLOB _found "${FINCH_ARROW_LIB_DIR}/lib${lib}.so.[0-9]*")
  list(FILTER _found EXCLUDE REGEX "\\.so\\.[0-9]+\\.[0-9]")  # libx.so.2600, not libx.so.2600.1.0
  if(NOT _found)
    message(FATAL_ERROR "lib${lib}.so.* not found in ${FINCH_ARROW_LIB_DIR}")
  endif()
  list(GET _found 0 _found)
  target_link_libraries(finch_arrow INTERFACE "${_found}")
endforeach()
target_link_options(finch_arrow INTERFACE "LINKER:-rpath,${FINCH_ARROW_LIB_DIR}")
message(STATUS "finch: Arrow/Parquet C++ ${FINCH_ARROW_VERSION} from pyarrow at ${FINCH_ARROW_LIB_DIR}")
