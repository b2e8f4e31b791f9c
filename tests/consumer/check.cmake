# Builds and runs a project outside corio's tree that links corio::corio, in one of two ways:
#
# MODE=package (default; the package_consumer test):
#   cmake -DCORIO_BINARY_DIR=... -DCONSUMER_SOURCE_DIR=... -DWORK_DIR=... -DCXX_COMPILER=...
#         [-DCXX_FLAGS=...] [-DEXE_LINKER_FLAGS=...] [-DBUILD_TYPE=...] [-DMAKE_PROGRAM=...]
#         [-DEXPECTED_VERSION=...] -P check.cmake
#   1. installs the corio build tree into WORK_DIR/prefix,
#   2. configures CONSUMER_SOURCE_DIR against it (find_package; Ninja, same compiler/flags),
#   3. builds it, 4. runs the `consumer` executable, which must exit 0.
#
# MODE=subdirectory (the subdirectory_consumer test):
#   cmake -DMODE=subdirectory -DCORIO_SOURCE_DIR=... -DCONSUMER_SOURCE_DIR=... -DWORK_DIR=...
#         -DCXX_COMPILER=... [the optional ones above] [-DWERROR=ON|OFF] -P check.cmake
#   1. configures CONSUMER_SOURCE_DIR/subdirectory, which adds CORIO_SOURCE_DIR with
#      add_subdirectory() and fails if corio defines any target besides corio,
#   2. builds it (corio included), 3. runs its `consumer`, which must exit 0.
#
# -DJOBS=N builds with N jobs ($CMAKE_BUILD_PARALLEL_LEVEL, or the generator's default, otherwise).
cmake_minimum_required(VERSION 3.20)

if(NOT DEFINED MODE OR MODE STREQUAL "")
  set(MODE package)
endif()
if(MODE STREQUAL "package")
  set(_required CORIO_BINARY_DIR CONSUMER_SOURCE_DIR WORK_DIR CXX_COMPILER)
  set(_project_dir "${CONSUMER_SOURCE_DIR}")
elseif(MODE STREQUAL "subdirectory")
  set(_required CORIO_SOURCE_DIR CONSUMER_SOURCE_DIR WORK_DIR CXX_COMPILER)
  set(_project_dir "${CONSUMER_SOURCE_DIR}/subdirectory")
else()
  message(FATAL_ERROR "check.cmake: MODE must be package or subdirectory, not '${MODE}'")
endif()
set(_test "${MODE}_consumer")

foreach(_var IN LISTS _required)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "check.cmake: -D${_var}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${CONSUMER_SOURCE_DIR}/main.cpp" OR NOT EXISTS "${_project_dir}/CMakeLists.txt")
  message(FATAL_ERROR "check.cmake: ${CONSUMER_SOURCE_DIR}/main.cpp or ${_project_dir}/CMakeLists.txt is missing")
endif()

set(_prefix "${WORK_DIR}/prefix")
set(_build "${WORK_DIR}/build")
# Start from scratch each time so stale headers or caches can't hide a bug.
file(REMOVE_RECURSE "${_prefix}" "${_build}")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${_test}: ${what} failed (${_rc})")
  endif()
endfunction()

set(_configure_args
  -S "${_project_dir}" -B "${_build}" -G Ninja
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

if(MODE STREQUAL "package")
  set(_config_args)
  if(BUILD_TYPE)
    set(_config_args --config "${BUILD_TYPE}")
  endif()
  run_step("cmake --install"
    "${CMAKE_COMMAND}" --install "${CORIO_BINARY_DIR}" --prefix "${_prefix}"
    ${_config_args})
  list(APPEND _configure_args "-DCMAKE_PREFIX_PATH=${_prefix}")
  if(EXPECTED_VERSION)
    list(APPEND _configure_args "-DCORIO_EXPECTED_VERSION=${EXPECTED_VERSION}")
  endif()
else()
  list(APPEND _configure_args "-DCORIO_SOURCE_DIR=${CORIO_SOURCE_DIR}")
  if(DEFINED WERROR AND NOT WERROR STREQUAL "")
    list(APPEND _configure_args "-DCORIO_WERROR=${WERROR}")
  endif()
endif()
run_step("configuring the consumer" "${CMAKE_COMMAND}" ${_configure_args})

set(_build_args)
if(JOBS)
  set(_build_args --parallel "${JOBS}")
endif()
run_step("building the consumer" "${CMAKE_COMMAND}" --build "${_build}" ${_build_args})

run_step("running the consumer" "${_build}/consumer")
message(STATUS "${_test}: OK")
