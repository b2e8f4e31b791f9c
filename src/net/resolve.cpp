#include "corio/net/resolve.hpp"

#include <ares.h>
#include <sys/epoll.h>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "corio/detail/timer_heap.hpp"
#include "corio/event.hpp"
#include "corio/event_loop.hpp"
#include "corio/wait_for.hpp"

namespace corio::net {
namespace {

thread_local std::string dns_servers;  // set_dns_servers(); empty: the system's

/// One getaddrinfo query on a c-ares channel of its own, driven by the loop: c-ares's sockets are
/// watched (level-triggered, as c-ares asks) and its retry timeouts run on a loop timer.
class lookup final : detail::timer_node {
public:
    lookup(event_loop& loop, const std::string& servers) : timer_node(&on_timer), loop_(loop) {
        static std::once_flag library_ready;
        std::call_once(library_ready, [] { ares_library_init(ARES_LIB_INIT_ALL); });
        ares_options settings{};
        settings.sock_state_cb = &on_socket_state;
        settings.sock_state_cb_data = this;
        const int status = ares_init_options(&channel_, &settings, ARES_OPT_SOCK_STATE_CB);
        if (status != ARES_SUCCESS) throw dns_error(std::string("DNS resolver setup failed: ") + ares_strerror(status));
        if (!servers.empty() && ares_set_servers_ports_csv(channel_, servers.c_str()) != ARES_SUCCESS) {
            ares_destroy(channel_);
            throw dns_error("invalid DNS server list '" + servers + "'");
        }
        counted_ = corio::detail::external_work(loop_);  // virtual time must not jump past a real lookup
    }
    lookup(const lookup&) = delete;
    lookup& operator=(const lookup&) = delete;
    ~lookup() {
        ares_destroy(channel_);  // cancels the query and closes its sockets (telling on_socket_state)
        for (auto& [fd, watch] : sockets_) loop_.unwatch(fd);
        loop_.remove_timer(*this);
    }

    void start(const std::string& host, std::uint16_t port, int family) {
        ares_addrinfo_hints hints{};
        hints.ai_family = family;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = ARES_AI_NUMERICSERV;
        ares_getaddrinfo(channel_, host.c_str(), std::to_string(port).c_str(), &hints, &on_result, this);
        rearm_timer();
    }

    event done;                        // set once the query has an answer (or failed)
    int status = ARES_SUCCESS;         // valid once done
    std::vector<endpoint> endpoints;   // valid once done, if status is ARES_SUCCESS

private:
    class socket_watch final : public detail::io_watcher {
    public:
        socket_watch(lookup& owner, int fd) noexcept : owner_(owner), fd_(fd) {}
        void on_io_events(std::uint32_t events) noexcept override {
            const bool failed = (events & (EPOLLERR | EPOLLHUP)) != 0;
            owner_.process((failed || (events & EPOLLIN)) ? fd_ : ARES_SOCKET_BAD,
                           (failed || (events & EPOLLOUT)) ? fd_ : ARES_SOCKET_BAD);
        }

    private:
        lookup& owner_;
        int fd_;
    };

    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
        static_cast<lookup*>(data)->watch(fd, readable != 0, writable != 0);
    }

    void watch(int fd, bool readable, bool writable) {
        auto it = sockets_.find(fd);
        if (!readable && !writable) {  // c-ares is about to close it
            if (it == sockets_.end()) return;
            loop_.unwatch(fd);
            sockets_.erase(it);
            return;
        }
        const std::uint32_t events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
        if (it == sockets_.end()) {
            auto w = std::make_unique<socket_watch>(*this, fd);
            loop_.watch(fd, events, *w, /*edge=*/false);
            sockets_.emplace(fd, std::move(w));
        } else {
            loop_.rewatch(fd, events, *it->second, /*edge=*/false);
        }
    }

    void process(ares_socket_t readable, ares_socket_t writable) noexcept {
        ares_process_fd(channel_, readable, writable);
        rearm_timer();
    }

    void rearm_timer() noexcept {
        loop_.remove_timer(*this);
        if (done.is_set()) return;
        timeval tv{};
        if (ares_timeout(channel_, nullptr, &tv) == nullptr) return;
        loop_.add_timer(*this, loop_.now() + std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    }

    static void on_timer(timer_node& node) noexcept { static_cast<lookup&>(node).process(ARES_SOCKET_BAD, ARES_SOCKET_BAD); }

    static void on_result(void* data, int status, int /*timeouts*/, ares_addrinfo* result) {
        if (status != ARES_EDESTRUCTION) static_cast<lookup*>(data)->finish(status, result);
        ares_freeaddrinfo(result);
    }

    void finish(int result_status, const ares_addrinfo* result) {
        status = result_status;
        if (status == ARES_SUCCESS && result != nullptr)
            for (const ares_addrinfo_node* n = result->nodes; n != nullptr; n = n->ai_next)
                endpoints.push_back(endpoint::from_sockaddr(n->ai_addr, n->ai_addrlen));
        done.set();
    }

    event_loop& loop_;
    corio::detail::external_work counted_;  // from setup on; ends after the destructor's body
    ares_channel channel_ = nullptr;
    std::unordered_map<int, std::unique_ptr<socket_watch>> sockets_;  // c-ares sockets being watched
};

/// "[::1]" -> "::1": URLs carry IPv6 literals in brackets.
std::string_view without_brackets(std::string_view host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
    return host;
}

task<std::vector<endpoint>> run_lookup(std::string host, std::uint16_t port, resolve_options options) {
    lookup query(current_loop("resolve"), dns_servers);
    query.start(host, port, options.family);
    try {
        co_await wait_for(query.done.wait(), options.timeout);
    } catch (const timeout_error&) {
        throw timeout_error("DNS lookup of '" + host + "' timed out after " + format_duration(options.timeout));
    }
    if (query.status != ARES_SUCCESS)
        throw dns_error("DNS lookup of '" + host + "' failed: " + ares_strerror(query.status));
    if (query.endpoints.empty()) throw dns_error("DNS lookup of '" + host + "' found no address");
    co_return std::move(query.endpoints);
}

}  // namespace

task<std::vector<endpoint>> resolve(std::string host, std::uint16_t port, resolve_options options) {
    const corio::detail::deadline_check check("DNS lookup of", options.timeout, [&] { return host; });
    if (auto numeric = endpoint::try_parse(without_brackets(host), port)) co_return std::vector<endpoint>{*numeric};
    co_return co_await run_lookup(std::move(host), port, options);
}

std::string set_dns_servers(std::string servers) { return std::exchange(dns_servers, std::move(servers)); }

}  // namespace corio::net
