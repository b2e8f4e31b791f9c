// Private to the HTTP client and server: a connection's receive buffer. Bytes are appended
// after the unread ones and consumed from the front; the unread bytes move to the front only
// when the space behind them runs out (the parser keeps offsets, so that is safe between calls;
// string_views into the buffer end at the next prepare()).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace corio::http::detail {

class read_buffer {
public:
    explicit read_buffer(std::size_t initial = 16 * 1024) : bytes_(initial) {}

    /// Bytes received and not consumed yet.
    std::string_view unread() const noexcept { return {bytes_.data() + begin_, end_ - begin_}; }
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }
    /// Room for the next read, after the unread bytes (moving them to the front, or growing the
    /// buffer when they fill it: the parser's limits bound how far).
    std::span<char> prepare() {
        if (end_ == bytes_.size()) {
            if (begin_ > 0) {
                std::copy(bytes_.begin() + static_cast<std::ptrdiff_t>(begin_),
                          bytes_.begin() + static_cast<std::ptrdiff_t>(end_), bytes_.begin());
                end_ -= begin_;
                begin_ = 0;
            } else {
                bytes_.resize(bytes_.size() * 2);
            }
        }
        return {bytes_.data() + end_, bytes_.size() - end_};
    }
    /// `n` bytes were written into the span prepare() returned.
    void commit(std::size_t n) noexcept { end_ += n; }

private:
    std::vector<char> bytes_;
    // Invariant: begin_ <= end_ <= bytes_.size(); [begin_, end_) is unread.
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

}  // namespace corio::http::detail
