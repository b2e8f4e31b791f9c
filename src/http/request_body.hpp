// request_body.hpp (private) — a client request body that is not one string in memory: the
// pieces of a form_data or a file (their length known once the files are open: sent with
// Content-Length, and again after a redirect), or an async_generator (sent chunked, once).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "corio/async_generator.hpp"
#include "corio/http/multipart.hpp"
#include "corio/task.hpp"
#include "file_handle.hpp"

namespace corio::http::detail {

class pooled_connection;

class request_body {
public:
    explicit request_body(std::vector<form_data::segment> segments) : segments_(std::move(segments)) {}
    explicit request_body(async_generator<std::string> pieces) : pieces_(std::move(pieces)) {}

    /// True for a generator body: sent with Transfer-Encoding: chunked.
    bool chunked() const noexcept { return pieces_.has_value(); }
    /// True once a generator body began to be sent: it cannot be sent again (a retry, a 307).
    bool consumed() const noexcept { return consumed_; }
    /// Opens the files (on a worker thread) and returns the body's length; for a sized body,
    /// before each send. Throws std::system_error naming a file that cannot be opened.
    task<std::uint64_t> open(const std::string& description);
    /// Writes the body after the head: each piece within `piece_timeout` of the last.
    task<> write(pooled_connection& c, clock::time_point deadline, std::chrono::nanoseconds piece_timeout);

private:
    struct open_file {
        file_handle file;
        std::uint64_t size = 0;
    };
    task<> write_chunks(pooled_connection& c, clock::time_point deadline, std::chrono::nanoseconds piece_timeout);

    std::vector<form_data::segment> segments_;        // a sized body: bytes, and files by path
    std::vector<open_file> files_;                    // segments_' files in order, opened by open()
    std::optional<async_generator<std::string>> pieces_;  // a chunked body
    bool consumed_ = false;                           // pieces_ began to be read
};

}  // namespace corio::http::detail
