# FindCares.cmake — finds c-ares (Debian: libc-ares-dev, which ships no CMake config) and
# defines the imported target corio::cares. Installed beside corioConfig.cmake so that
# find_package(corio) can recreate the target for consumers.
find_path(CARES_INCLUDE_DIR ares.h)
find_library(CARES_LIBRARY NAMES cares)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Cares REQUIRED_VARS CARES_LIBRARY CARES_INCLUDE_DIR)
if(Cares_FOUND AND NOT TARGET corio::cares)
  add_library(corio::cares UNKNOWN IMPORTED)
  set_target_properties(corio::cares PROPERTIES
    IMPORTED_LOCATION "${CARES_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CARES_INCLUDE_DIR}")
endif()
