// corio/version.hpp — the library's version (CMake reads it from here: the one place it is set).
#pragma once

#define CORIO_VERSION_MAJOR 0
#define CORIO_VERSION_MINOR 1
#define CORIO_VERSION_PATCH 0
#define CORIO_VERSION_STRING "0.1.0"
