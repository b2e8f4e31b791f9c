// static_files.hpp (private) — what server::static_files serves a directory with; see
// static_files.cpp.
#pragma once

#include <sys/stat.h>

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "corio/http/server.hpp"
#include "file_handle.hpp"

namespace corio::http::detail {

/// One directory served under a route prefix. Immutable once built: shared by every loop.
class static_directory : public std::enable_shared_from_this<static_directory> {
public:
    /// Opens `directory` (O_PATH); throws std::system_error if it cannot.
    static_directory(std::string directory, static_options options);
    static_directory(const static_directory&) = delete;
    static_directory& operator=(const static_directory&) = delete;
    ~static_directory();

    /// The answer to GET/HEAD `req`, whose path segments after the first `prefix_segments`
    /// name the file. Cancel safety: a cancelled serve (the handler's deadline) stops waiting at
    /// once; an open still running on its worker thread finishes there and closes what it
    /// opened. Made by make_shared (the open holds the directory while it runs).
    task<response> serve(request& req, std::size_t prefix_segments) const;

private:
    struct opened_file {
        int status = 200;  // 200, else 404/403 (no file) or 301 (a directory named without '/')
        file_handle file;
        struct stat st {};
    };
    opened_file open_file(const std::string& relative, bool names_directory) const;
    response answer(const request& req, file_handle file, const struct stat& st, std::string_view name) const;
    static bool not_modified(const request& req, std::string_view etag, std::time_t modified);
    static bool range_applies(const request& req, std::string_view etag, std::string_view modified);

    std::string directory_;
    static_options options_;
    int root_ = -1;  // O_PATH descriptor of directory_: every open is resolved beneath it
};

}  // namespace corio::http::detail
