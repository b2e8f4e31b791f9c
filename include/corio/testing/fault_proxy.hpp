// corio/testing/fault_proxy.hpp — fault_proxy: a TCP proxy on loopback that breaks the
// connections through it on purpose (delay, drop, reset, truncate), to test how a client copes
// with a slow, silent, failing or lying network — with real sockets, no mocks (Toxiproxy's
// toxics, in-process).
//
// snippet: examples/testing.cpp#fault_proxy
//   auto proxy = co_await corio::testing::fault_proxy::start(server.endpoint());
//   proxy.set_fault(corio::testing::fault::drop());  // accept, then never answer
//   http::session_options options;
//   options.base_url = proxy.url("/");
//   options.timeout.total = 200ms;
//   http::client_session client(std::move(options));
//   bool timed_out = false;
//   try {
//       co_await client.get("/hello/ada");
//   } catch (const corio::timeout_error&) {
//       timed_out = true;  // the client's own timeout fired: the proxy swallowed the request
//   }
//   check(timed_out && proxy.connections_accepted() == 1, "a black hole times the client out");
//   co_await client.aclose();
//   co_await proxy.aclose();
//
// start(upstream) listens on 127.0.0.1, port 0, and returns once it listens; endpoint() and
// url(path) say where. Each connection accepted is served, as tasks on the current loop, with
// the fault set when it was accepted (set_fault changes it for the connections accepted
// afterwards, for all of them or only the next `connections`; those open keep theirs):
//   fault::none()           forwards both ways faithfully
//   fault::delay(d, which)  holds each chunk read `d` before forwarding it, in one direction or
//                           both (a response in k chunks thus arrives up to k·d late)
//   fault::drop()           a black hole: accepts, reads and discards what the client sends, never
//                           contacts the upstream and never answers, so the client's timeouts fire
//   fault::reset(n)         resets the client's connection (RST: SO_LINGER 0) once n bytes of the
//                           upstream's answer were forwarded; n = 0: right after the accept,
//                           without contacting the upstream
//   fault::truncate(n)      forwards only the first n bytes of the upstream's answer, then closes
//                           the client's connection cleanly (FIN): a response cut short
// Half-close is forwarded: when the client shuts its side down, so does the proxy towards the
// upstream, and the answer keeps flowing; a connection ends when the upstream's answer ends (or
// a fault or an error ends it). A proxied connection on which either side sends nothing for
// options.idle_timeout (a black hole's client included) is reset, so nothing through the proxy
// waits unbounded; the upstream connect is bounded by options.connect_timeout, and a failed
// connect, or any error on either side, resets the client's connection.
// connections_accepted() counts every connection so far, so a test can assert retries.
//
// Real sockets keep virtual time real while they are pending (event_loop.hpp): under
// run_test, a test through the proxy waits real time for its delays and timeouts, so keep them
// short (tens of milliseconds).
// close() (aclose(), for corio::async_with) cancels the accept loop and every connection,
// closing their sockets, and waits for them (up to 1 s); idempotent. A fault_proxy destroyed
// unclosed (a test body that failed half-way) closes in the background on its loop.
// Throws: start: connection_error if it cannot listen. Errors on proxied connections (a peer's
// reset, an unreachable upstream, a timeout) end that connection only; they are the traffic.
// Cancel safety: a cancelled close() leaves the connections, already cancelled, to finish on
// their own; the proxy's destruction still waits for them (in the background).
// Thread-safety: the loop that started it. Move-only (a moved-from proxy may only be destroyed
// or assigned to).
#pragma once

#include <chrono>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "corio/net/endpoint.hpp"
#include "corio/task.hpp"

namespace corio::testing {

/// Which way through the proxy a fault applies to.
enum class direction {
    to_upstream,  ///< the client's bytes (the request)
    to_client,    ///< the upstream's bytes (the answer)
    both,
};

/// What the proxy does to a connection. Made by the named constructors; a value type.
class fault {
public:
    enum class kind { none, delay, drop, reset, truncate };

    /// Forward faithfully.
    static fault none() noexcept { return fault(kind::none); }
    /// Hold each chunk `hold` before forwarding it, in `which` direction(s).
    static fault delay(std::chrono::nanoseconds hold, direction which = direction::both) noexcept;
    /// Accept and never answer (a black hole).
    static fault drop() noexcept { return fault(kind::drop); }
    /// Reset the client's connection after `after_bytes` of the answer (0: at once).
    static fault reset(std::size_t after_bytes = 0) noexcept;
    /// Forward only the first `bytes` of the answer, then close cleanly.
    static fault truncate(std::size_t bytes) noexcept;

    kind type() const noexcept { return kind_; }
    /// delay: how long each chunk is held, and which way.
    std::chrono::nanoseconds hold() const noexcept { return hold_; }
    direction applies_to() const noexcept { return which_; }
    /// reset, truncate: how many bytes of the answer are forwarded (otherwise: no limit).
    std::size_t bytes() const noexcept { return bytes_; }

private:
    explicit fault(kind k) noexcept : kind_(k) {}

    kind kind_;
    std::chrono::nanoseconds hold_{0};
    direction which_ = direction::both;
    std::size_t bytes_ = std::numeric_limits<std::size_t>::max();
};

struct fault_proxy_options {
    /// Bounds the connect to the upstream of each proxied connection.
    std::chrono::nanoseconds connect_timeout = std::chrono::seconds(5);
    /// A proxied connection on which either side sends nothing this long is reset.
    std::chrono::nanoseconds idle_timeout = std::chrono::seconds(60);
};

class fault_proxy {
public:
    /// Listens on 127.0.0.1, port 0, and proxies every connection to `upstream`.
    static task<fault_proxy> start(net::endpoint upstream, fault_proxy_options options = {});

    fault_proxy(fault_proxy&&) noexcept;
    fault_proxy& operator=(fault_proxy&&) noexcept;
    ~fault_proxy();  ///< unclosed: closes in the background

    /// Where clients connect: 127.0.0.1 and the port picked.
    const net::endpoint& endpoint() const noexcept;
    /// "http://127.0.0.1:PORT" + `path`, for an HTTP upstream.
    std::string url(std::string_view path = "/") const;

    /// The fault of every connection accepted from now on.
    void set_fault(fault f) noexcept;
    /// The fault of the next `connections` accepted; the ones after are forwarded faithfully.
    void set_fault(fault f, std::size_t connections) noexcept;
    /// Connections accepted so far.
    std::size_t connections_accepted() const noexcept;

    /// Cancels the accept loop and every connection, closing their sockets, and waits for them.
    task<> close();
    /// close(), for corio::async_with.
    task<> aclose() { return close(); }

private:
    class state;
    explicit fault_proxy(std::unique_ptr<state> s) noexcept;

    std::unique_ptr<state> state_;  // null once moved from
};

}  // namespace corio::testing
