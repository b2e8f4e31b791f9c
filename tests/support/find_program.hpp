// find_program: where an external program (nginx, wrk, curl, python3...) is, for the tests and
// benchmarks that drive one. The tests skip when it is missing: CORIO_REQUIRE_PROGRAM in
// tests/test_util.hpp.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>

namespace corio_test_support {

/// The absolute path of `name` in $PATH or the sbin directories (nginx lives in /usr/sbin,
/// often not in a user's PATH); empty if not found.
inline std::string find_program(const std::string& name) {
    std::string dirs = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
    dirs += ":/usr/local/sbin:/usr/sbin:/sbin";
    std::istringstream in(dirs);
    for (std::string dir; std::getline(in, dir, ':');) {
        if (dir.empty()) continue;
        const std::string path = dir + "/" + name;
        if (::access(path.c_str(), X_OK) == 0) return path;
    }
    return {};
}

}  // namespace corio_test_support
