# CorioPlainLibrary.cmake — corio_find_plain_library(): finds a C library that ships no CMake
# config (Debian's libc-ares-dev, liburing-dev) by its header and library, and defines an
# imported target for it. Used by the Find modules installed beside corioConfig.cmake.
include(FindPackageHandleStandardArgs)
function(corio_find_plain_library package header library target)
  string(TOUPPER "${package}" prefix)
  find_path(${prefix}_INCLUDE_DIR ${header})
  find_library(${prefix}_LIBRARY NAMES ${library})
  find_package_handle_standard_args(${package} REQUIRED_VARS ${prefix}_LIBRARY ${prefix}_INCLUDE_DIR)
  set(${package}_FOUND ${${package}_FOUND} PARENT_SCOPE)
  if(${package}_FOUND AND NOT TARGET ${target})
    add_library(${target} UNKNOWN IMPORTED)
    set_target_properties(${target} PROPERTIES
      IMPORTED_LOCATION "${${prefix}_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${${prefix}_INCLUDE_DIR}")
  endif()
endfunction()
