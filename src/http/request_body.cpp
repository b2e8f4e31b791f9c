// request_body.cpp — see request_body.hpp.
#include "request_body.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <system_error>

#include "connection_pool.hpp"
#include "corio/to_thread.hpp"
#include "corio/wait_for.hpp"

namespace corio::http::detail {

task<std::uint64_t> request_body::open(const std::string& description) {
    std::uint64_t length = 0;
    std::vector<std::string> paths;
    for (const form_data::segment& s : segments_) {
        length += s.bytes.size();
        if (!s.path.empty()) paths.push_back(s.path);
    }
    if (files_.size() != paths.size()) {
        // open and fstat may block on a slow disk: on a worker (the job owns its copies; a file
        // it opens after a cancelled request stopped waiting is closed with its result).
        const auto open_all = [paths, description] {
            std::vector<open_file> opened;
            for (const std::string& path : paths) {
                open_file f{file_handle(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), 0};
                struct stat st {};
                if (f.file.fd() < 0 || ::fstat(f.file.fd(), &st) != 0)
                    throw std::system_error(errno, std::generic_category(), description + ": cannot open the file to upload \"" + path + "\"");
                if (!S_ISREG(st.st_mode))
                    throw std::system_error(EINVAL, std::generic_category(), description + ": \"" + path + "\" is not a regular file to upload");
                f.size = static_cast<std::uint64_t>(st.st_size);
                opened.push_back(std::move(f));
            }
            return opened;
        };
        files_ = co_await to_thread(abandon_on_cancel, open_all);
    }
    for (const open_file& f : files_) length += f.size;
    co_return length;
}

task<> request_body::write(pooled_connection& c, clock::time_point deadline, std::chrono::nanoseconds piece_timeout) {
    if (pieces_) co_return co_await write_chunks(c, deadline, piece_timeout);
    std::size_t file = 0;
    for (const form_data::segment& s : segments_) {
        if (s.path.empty()) {
            co_await c.write_all(s.bytes, deadline);
        } else {  // from offset 0 each time (sendfile leaves the file's position alone): a retry resends it
            co_await c.send_file(files_[file].file.fd(), 0, files_[file].size, deadline);
            ++file;
        }
    }
}

task<> request_body::write_chunks(pooled_connection& c, clock::time_point deadline, std::chrono::nanoseconds piece_timeout) {
    consumed_ = true;
    for (;;) {
        std::optional<std::string> piece = co_await wait_for(pieces_->next(), piece_timeout);
        if (!piece) break;
        if (piece->empty()) continue;  // an empty chunk would end the body
        char size_line[24];
        const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece->size());
        const std::array<std::string_view, 3> chunk{std::string_view(size_line, static_cast<std::size_t>(n)), *piece, "\r\n"};
        co_await c.write_all(chunk, deadline);
    }
    co_await c.write_all("0\r\n\r\n", deadline);
}

}  // namespace corio::http::detail
