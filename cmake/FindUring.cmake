# FindUring.cmake — finds liburing (Debian: liburing-dev, which ships no CMake config) and
# defines the imported target corio::uring. Installed beside corioConfig.cmake so that
# find_package(corio) can recreate the target for consumers.
include("${CMAKE_CURRENT_LIST_DIR}/CorioPlainLibrary.cmake")
corio_find_plain_library(Uring liburing.h uring corio::uring)
