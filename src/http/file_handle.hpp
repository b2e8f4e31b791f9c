// file_handle.hpp (private) — an open file descriptor that closes itself: the files static_files
// serves and the files client uploads send.
#pragma once

#include <unistd.h>

#include <utility>

namespace corio::http::detail {

/// An open file descriptor, closed with its last owner.
class file_handle {
public:
    file_handle() noexcept = default;
    explicit file_handle(int fd) noexcept : fd_(fd) {}
    file_handle(file_handle&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    file_handle& operator=(file_handle&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }
    ~file_handle() {
        if (fd_ >= 0) ::close(fd_);
    }

    int fd() const noexcept { return fd_; }

private:
    int fd_ = -1;
};

}  // namespace corio::http::detail
