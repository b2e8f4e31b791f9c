// The cancellation sweep: every composite operation is run once while its suspension points are
// counted (every task on the loop, children included, through detail::observe_suspension), then
// once more for each k, cancelled at its k-th suspension point. After every run: no file
// descriptor leaked and every resource was closed (in the sanitizer build LeakSanitizer also
// checks that no memory leaked). A cancellation that arrives at any point must leave nothing
// behind — the promise each header's "cancel safety" paragraph makes.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/http/client_session.hpp>
#include <corio/http/server.hpp>

#include <array>
#include <atomic>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

using namespace std::chrono_literals;
using corio_test::open_fd_count;
namespace http = corio::http;

namespace {

/// One swept run: which suspension point cancels the operation, and what happened.
struct sweep_run {
    std::uint64_t cancel_at = 0;  // 0: only count
    std::uint64_t seen = 0;       // suspension points so far
    std::optional<corio::join_handle<void>> target;
    bool cancelled = false;  // the operation ended by the cancellation
};

thread_local sweep_run* current_run = nullptr;

void count_suspension(corio::detail::task_state&) noexcept {
    sweep_run* run = current_run;
    if (run == nullptr || !run->target || ++run->seen != run->cancel_at) return;
    // Not from inside the suspension itself: the awaitable is still registering its wait.
    corio::event_loop::current()->call_soon([handle = *run->target]() mutable { handle.cancel(); });
}

template <class Op>
corio::task<> run_swept(Op& op, sweep_run& run) {
    run.target = corio::spawn(op());
    try {
        co_await *run.target;
    } catch (const corio::cancelled_error&) {
        run.cancelled = true;
    }
    run.target.reset();
}

/// Runs op() once counting its suspension points, then once per point, cancelled there; calls
/// check(k) after each run (k = 0 for the counting run). Returns the number of points.
template <class Op, class Check>
std::uint64_t sweep_cancellation(Op op, Check check) {
    const auto run_once = [&op](std::uint64_t cancel_at) {
        sweep_run run;
        run.cancel_at = cancel_at;
        current_run = &run;
        corio::detail::observe_suspension = count_suspension;
        corio::run(run_swept(op, run), {.handle_signals = false});
        corio::detail::observe_suspension = nullptr;
        current_run = nullptr;
        return run;
    };
    const sweep_run counted = run_once(0);
    EXPECT_FALSE(counted.cancelled);
    check(0);
    std::cout << "[ sweep    ] " << counted.seen << " suspension points\n";
    for (std::uint64_t k = 1; k <= counted.seen; ++k) {
        SCOPED_TRACE("cancelled at suspension point " + std::to_string(k) + " of " + std::to_string(counted.seen));
        run_once(k);  // (with real I/O a run may suspend less often: then it just completes)
        check(k);
    }
    return counted.seen;
}

/// Counts live instances: a resource a cancelled operation must not leak.
struct live_counter {
    explicit live_counter(int& live) : live_(live) { ++live_; }
    live_counter(const live_counter&) = delete;
    ~live_counter() { --live_; }
    int& live_;
};

/// A server on 127.0.0.1 with two routes: GET /data (100 kB after 1 ms) and a streaming
/// POST /upload that answers how many bytes it read. A server is one-shot (stop() is final), so
/// every swept run makes its own.
void add_routes(http::server& app, int& live_handlers) {
    app.get("/data", [](http::request&) -> corio::task<http::response> {
        co_await corio::sleep(1ms);
        co_return http::response::text(std::string(100'000, 'd'));
    });
    app.route(
        "POST", "/upload",
        [&live_handlers](http::request& req) -> corio::task<http::response> {
            live_counter alive(live_handlers);
            std::size_t total = 0;
            auto body = req.body_stream();
            while (auto piece = co_await body.next()) total += piece->size();
            co_return http::response::text(std::to_string(total));
        },
        {.stream_body = true});
}

/// Two GETs through one client_session (the second on the pooled connection).
corio::task<> two_requests_through_the_pool(int& live_handlers) {
    http::server app;
    add_routes(app, live_handlers);
    const auto where = co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));
    std::exception_ptr failure;
    try {
        http::client_session session;
        const std::string url = "http://" + where.to_string() + "/data";
        for (int i = 0; i < 2; ++i) {
            auto response = co_await session.get(url);
            EXPECT_EQ((co_await response.text()).size(), 100'000u);
        }
    } catch (...) {  // cancelled_error too: the server is stopped on every path
        failure = std::current_exception();
    }
    app.stop(100ms);
    co_await corio::uncancellable(app.wait_closed());
    if (failure) std::rethrow_exception(failure);
}

TEST(cancellation_sweep, an_http_request_through_the_pool) {
    const auto fds = open_fd_count();
    int live_handlers = 0;
    const auto points = sweep_cancellation([&]() { return two_requests_through_the_pool(live_handlers); },
                                           [&](std::uint64_t) {
                                               EXPECT_EQ(open_fd_count(), fds);
                                               EXPECT_EQ(live_handlers, 0);
                                           });
    EXPECT_GT(points, 10u);
}

/// The server and a raw client streaming a chunked body to it, in one task group: the sweep
/// cancels both at every point of the exchange.
corio::task<> upload_a_streamed_body(int& live_handlers) {
    http::server app;
    add_routes(app, live_handlers);
    auto exchange = [&app](corio::task_group& tg) -> corio::task<> {
        auto listener = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
        const auto where = listener.local_endpoint();
        tg.spawn(app.serve(std::move(listener)));  // the serving is a child: the sweep cancels it too
        auto client = co_await corio::net::tcp_stream::connect(where);
        co_await client.write_all("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 3; ++i) {
            co_await client.write_all("400\r\n" + std::string(0x400, 'u') + "\r\n");
            co_await corio::sleep(1ms);
        }
        co_await client.write_all("0\r\n\r\n");
        std::array<char, 1024> buffer;
        const std::string reply(buffer.data(), co_await client.read_some(buffer));
        EXPECT_NE(reply.find("\r\n\r\n3072"), std::string::npos) << reply;
        app.stop(100ms);
    };
    co_await corio::with_task_group(std::move(exchange));
}

TEST(cancellation_sweep, a_server_request_with_a_streamed_body) {
    const auto fds = open_fd_count();
    int live_handlers = 0;
    const auto points = sweep_cancellation([&]() { return upload_a_streamed_body(live_handlers); },
                                           [&](std::uint64_t) {
                                               EXPECT_EQ(open_fd_count(), fds);
                                               EXPECT_EQ(live_handlers, 0);
                                           });
    EXPECT_GT(points, 10u);
}

corio::task<int> hold_then(int& live, std::chrono::milliseconds d, int value) {
    live_counter alive(live);
    co_await corio::sleep(d);
    if (value < 0) throw std::runtime_error("failed on purpose");
    co_return value;
}

TEST(cancellation_sweep, gather_and_gather_settled) {
    int live = 0;
    sweep_cancellation(
        [&live]() -> corio::task<> {
            return corio::invoke([&live]() -> corio::task<> {
                auto values = co_await corio::gather(hold_then(live, 1ms, 1), hold_then(live, 2ms, 2));
                EXPECT_EQ(std::get<1>(values), 2);
                auto settled = co_await corio::gather_settled(hold_then(live, 1ms, 3), hold_then(live, 2ms, -1));
                EXPECT_FALSE(std::get<1>(settled).has_value());
                try {
                    co_await corio::gather(hold_then(live, 1ms, -1), hold_then(live, 1h, 4));  // fail-fast
                } catch (const std::runtime_error&) {
                }
            });
        },
        [&](std::uint64_t) { EXPECT_EQ(live, 0); });
}

TEST(cancellation_sweep, a_task_group_whose_children_spawn_children) {
    int live = 0;
    sweep_cancellation(
        [&live]() -> corio::task<> {
            return corio::with_task_group([&live](corio::task_group& tg) -> corio::task<> {
                for (int i = 1; i <= 3; ++i)
                    tg.spawn([&tg, &live, i]() -> corio::task<> {
                        live_counter alive(live);
                        co_await corio::sleep(std::chrono::milliseconds(i));
                        tg.spawn(hold_then(live, 1ms, i));
                    });
                co_await hold_then(live, 2ms, 0);
            });
        },
        [&](std::uint64_t) { EXPECT_EQ(live, 0); });
}

/// A resource whose aclose() itself awaits.
struct counted_resource {
    int* opened;
    int* closed;
    corio::task<> aclose() {
        co_await corio::sleep(1ms);
        ++*closed;
    }
};

TEST(cancellation_sweep, async_with_closes_on_every_path) {
    int opened = 0, closed = 0;
    sweep_cancellation(
        [&]() -> corio::task<> {
            return corio::async_with(
                corio::invoke([&opened, &closed]() -> corio::task<counted_resource> {
                    co_await corio::sleep(1ms);
                    ++opened;
                    co_return counted_resource{&opened, &closed};
                }),
                [](counted_resource&) -> corio::task<> {
                    co_await corio::sleep(1ms);
                    co_await corio::sleep(1ms);
                });
        },
        [&](std::uint64_t) { EXPECT_EQ(opened, closed); });
}

TEST(cancellation_sweep, to_thread_jobs) {
    auto live = std::make_shared<std::atomic<int>>(0);
    sweep_cancellation(
        [live]() -> corio::task<> {
            return corio::invoke([live]() -> corio::task<> {
                for (int i = 0; i < 3; ++i) {
                    const int doubled = co_await corio::to_thread(
                        [](std::shared_ptr<std::atomic<int>> live, int n) {
                            live->fetch_add(1);
                            std::this_thread::sleep_for(1ms);
                            live->fetch_sub(1);
                            return 2 * n;
                        },
                        live, i);
                    EXPECT_EQ(doubled, 2 * i);
                }
            });
        },
        [&](std::uint64_t) {
            for (int i = 0; i < 1000 && live->load() != 0; ++i) std::this_thread::sleep_for(1ms);
            EXPECT_EQ(live->load(), 0);  // a job that had started ran to its end; none is stuck
        });
}

}  // namespace
