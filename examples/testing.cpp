// Testing with corio/testing.hpp, in any test framework: a body in virtual time under a deadlock
// guard (run_test), an http::server on a free port with a client bound to it (test_server), and a
// proxy in front of it that breaks connections on purpose (fault_proxy).
#include <corio/corio.hpp>
#include <corio/testing.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
namespace http = corio::http;

/// What a test framework's assertion does; here a failure ends the program with an error.
void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("check failed: ") + what);
    std::printf("ok: %s\n", what);
}

void virtual_time_and_deadlocks() {
    // [snippet run_test]
    corio::testing::run_test([]() -> corio::task<> {
        const auto start = corio::clock::now();
        co_await corio::sleep(1h);  // virtual time: returns at once
        check(corio::clock::now() - start == 1h, "an hour of virtual time passes at once");
    });
    // [end snippet]
    // [snippet deadlock]
    bool deadlocked = false;
    try {
        corio::testing::run_test([]() -> corio::task<> {
            corio::event never_set;
            co_await never_set.wait();  // nobody will set it: the test can never finish
        });
    } catch (const corio::testing::deadlock_error&) {
        deadlocked = true;  // at once: "did not finish within 720h of virtual time", then every
                            // task still alive and what it waits on
    }
    check(deadlocked, "a deadlocked test fails at once with deadlock_error");
    // [end snippet]
}

/// A client that gives up on a silent server within its timeout: the proxy swallows requests.
corio::task<> through_a_black_hole(corio::testing::test_server& server) {
    // [snippet fault_proxy]
    auto proxy = co_await corio::testing::fault_proxy::start(server.endpoint());
    proxy.set_fault(corio::testing::fault::drop());  // accept, then never answer
    http::session_options options;
    options.base_url = proxy.url("/");
    options.timeout.total = 200ms;
    http::client_session client(std::move(options));
    bool timed_out = false;
    try {
        co_await client.get("/hello/ada");
    } catch (const corio::timeout_error&) {
        timed_out = true;  // the client's own timeout fired: the proxy swallowed the request
    }
    check(timed_out && proxy.connections_accepted() == 1, "a black hole times the client out");
    co_await client.aclose();
    co_await proxy.aclose();
    // [end snippet]
}

corio::task<http::response> hello(http::request& req) {
    co_return http::response::text("hello " + std::string(req.param("name")));
}

void serving() {
    // [snippet test_server]
    http::server app;
    app.get("/hello/{name}", hello);
    corio::testing::run_test([&app]() -> corio::task<> {
        auto server = co_await corio::testing::test_server::start(app);  // listening from here
        auto client = server.client();  // base_url: the server's "http://127.0.0.1:PORT/"
        auto response = co_await client.get("/hello/ada");
        const std::string body = co_await response.text();
        check(response.status() == 200 && body == "hello ada", "GET /hello/ada");
        co_await client.aclose();
        co_await server.aclose();
    });
    // [end snippet]
}

void faults() {
    http::server app;  // a server serves once: each test gets its own
    app.get("/hello/{name}", hello);
    corio::testing::run_test([&app]() -> corio::task<> {
        auto server = co_await corio::testing::test_server::start(app);
        co_await through_a_black_hole(server);
        co_await server.aclose();
    });
}

int main() {
    try {
        virtual_time_and_deadlocks();
        serving();
        faults();
    } catch (const std::exception& e) {
        std::printf("testing: FAILED: %s\n", e.what());
        return 1;
    }
    std::printf("testing: ok\n");
    return 0;
}
