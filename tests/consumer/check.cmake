# Run with: cmake -DCORIO_BINARY_DIR=... -DCONSUMER_SOURCE_DIR=... -DWORK_DIR=...
#                 -DCXX_COMPILER=... [-DCXX_FLAGS=...] [-DEXE_LINKER_FLAGS=...]
#                 [-DBUILD_TYPE=...] [-DMAKE_PROGRAM=...]
#                 [-DEXPECTED_VERSION=...] -P check.cmake
# 1. installs the corio build tree into WORK_DIR/prefix,
# 2. configures CONSUMER_SOURCE_DIR against it (Ninja, same compiler/flags),
# 3. builds it, 4. runs the `consumer` executable, which must exit 0.
cmake_minimum_required(VERSION 3.20)

foreach(_var CORIO_BINARY_DIR CONSUMER_SOURCE_DIR WORK_DIR CXX_COMPILER)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "check.cmake: -D${_var}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${CONSUMER_SOURCE_DIR}/main.cpp")
  message(FATAL_ERROR "check.cmake: ${CONSUMER_SOURCE_DIR}/main.cpp is missing")
endif()

set(_prefix "${WORK_DIR}/prefix")
set(_build "${WORK_DIR}/build")
# Start from scratch each time so stale headers or caches can't hide a bug.
file(REMOVE_RECURSE "${_prefix}" "${_build}")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "package_consumer: ${what} failed (${_rc})")
  endif()
endfunction()

set(_config_args)
if(BUILD_TYPE)
  set(_config_args --config "${BUILD_TYPE}")
endif()

run_step("cmake --install"
  "${CMAKE_COMMAND}" --install "${CORIO_BINARY_DIR}" --prefix "${_prefix}"
  ${_config_args})

set(_configure_args
  -S "${CONSUMER_SOURCE_DIR}" -B "${_build}" -G Ninja
  "-DCMAKE_PREFIX_PATH=${_prefix}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}"
  # Only the scratch prefix may provide corio.
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
if(BUILD_TYPE)
  list(APPEND _configure_args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
endif()
if(MAKE_PROGRAM)
  list(APPEND _configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(EXPECTED_VERSION)
  list(APPEND _configure_args "-DCORIO_EXPECTED_VERSION=${EXPECTED_VERSION}")
endif()
run_step("configuring the consumer" "${CMAKE_COMMAND}" ${_configure_args})

run_step("building the consumer" "${CMAKE_COMMAND}" --build "${_build}")

run_step("running the consumer" "${_build}/consumer")
message(STATUS "package_consumer: OK")
