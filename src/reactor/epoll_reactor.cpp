// The epoll reactor: one epoll instance per loop; watchers are found through epoll_event.data.
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "corio/error.hpp"
#include "reactor.hpp"

namespace corio::detail {
namespace {

[[noreturn]] void throw_epoll(const char* call) {
    throw error(std::string("event loop (epoll): ") + call + ": " + std::strerror(errno));
}

class epoll_reactor final : public reactor {
public:
    epoll_reactor(io_watcher& wake, int wake_fd) : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
        if (epoll_fd_ < 0) throw_epoll("epoll_create1");
        try {
            control(EPOLL_CTL_ADD, wake_fd, EPOLLIN, wake, true);
        } catch (...) {
            ::close(epoll_fd_);
            throw;
        }
    }
    ~epoll_reactor() override { ::close(epoll_fd_); }

    io_backend backend() const noexcept override { return io_backend::epoll; }

    void watch(int fd, std::uint32_t events, io_watcher& w, bool edge) override {
        control(EPOLL_CTL_ADD, fd, events, w, edge);
        ++watched_fds_;
    }
    void rewatch(int fd, std::uint32_t events, io_watcher& w, bool edge) override {
        control(EPOLL_CTL_MOD, fd, events, w, edge);
    }
    void unwatch(int fd) noexcept override {
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr) == 0) --watched_fds_;
    }
    void unwatch_closed(int) noexcept override { --watched_fds_; }  // closing the fd ended it
    bool busy() const noexcept override { return watched_fds_ > 0; }

    void wait(int timeout_ms) override {
        constexpr int max_events = 128;
        epoll_event events[max_events];
        const int n = ::epoll_wait(epoll_fd_, events, max_events, timeout_ms);
        if (n < 0) {
            if (errno == EINTR) return;
            throw_epoll("epoll_wait");
        }
        for (int i = 0; i < n; ++i) static_cast<io_watcher*>(events[i].data.ptr)->on_io_events(events[i].events);
    }

private:
    void control(int operation, int fd, std::uint32_t events, io_watcher& w, bool edge) {
        epoll_event ev{};
        ev.events = events | (edge ? EPOLLET : 0u);
        ev.data.ptr = &w;
        if (::epoll_ctl(epoll_fd_, operation, fd, &ev) != 0)
            throw_epoll(operation == EPOLL_CTL_ADD ? "epoll_ctl(ADD)" : "epoll_ctl(MOD)");
    }

    int epoll_fd_;
    std::size_t watched_fds_ = 0;  // fds registered by watch(), excluding the wake-up eventfd
};

}  // namespace

std::unique_ptr<reactor> make_epoll_reactor(io_watcher& wake, int wake_fd) {
    return std::make_unique<epoll_reactor>(wake, wake_fd);
}

}  // namespace corio::detail
