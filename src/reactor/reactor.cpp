// Choosing a loop's reactor: the options, then CORIO_BACKEND, then what the kernel allows.
#include "reactor.hpp"

#include <cstdlib>
#include <string>

#include "corio/error.hpp"
#include "uring_reactor.hpp"

namespace corio {

std::string_view to_string(io_backend backend) noexcept {
    switch (backend) {
    case io_backend::epoll: return "epoll";
    case io_backend::io_uring: return "io_uring";
    case io_backend::automatic: break;
    }
    return "automatic";
}

namespace detail {
namespace {

/// What CORIO_BACKEND asks for (automatic when unset or empty); corio::error for anything else.
io_backend backend_from_environment() {
    const char* value = std::getenv("CORIO_BACKEND");
    const std::string_view asked = value != nullptr ? value : "";
    if (asked.empty() || asked == "automatic") return io_backend::automatic;
    if (asked == "epoll") return io_backend::epoll;
    if (asked == "io_uring") return io_backend::io_uring;
    throw error("CORIO_BACKEND=" + std::string(asked) + " is not a backend: use epoll or io_uring (or leave it unset)");
}

}  // namespace

std::unique_ptr<reactor> make_reactor(io_backend choice, io_watcher& wake, int wake_fd) {
    const bool from_environment = choice == io_backend::automatic;
    if (from_environment) choice = backend_from_environment();
    if (choice == io_backend::epoll) return make_epoll_reactor(wake, wake_fd);
    try {
        return std::make_unique<uring_reactor>(wake, wake_fd);
    } catch (const error& e) {
        if (choice == io_backend::automatic) return make_epoll_reactor(wake, wake_fd);
        throw error(std::string(from_environment ? "CORIO_BACKEND=io_uring" : "loop_options::backend = io_uring") +
                    " asks for io_uring, which this system does not allow: " + e.what());
    }
}

}  // namespace detail
}  // namespace corio
