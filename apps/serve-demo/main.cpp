// corio-serve-demo: runs the embedded demo service (tests/support/demo_service.hpp) on its own, on
// 127.0.0.1, until SIGINT or SIGTERM — something real to point corio-fetch, curl or a browser at:
//   corio-serve-demo --port 8080 &
//   corio-fetch --json http://127.0.0.1:8080/users http://127.0.0.1:8080/error
//   corio-serve-demo --database postgresql://me:secret@127.0.0.1/mydb   (adds /db/users, /db/sleep)
// Exit code: 0 after a signal, 1 if the port cannot be bound or the database reached, 2 for a
// usage error.
#include <corio/corio.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include "demo_service.hpp"

namespace {

/// Serves until cancelled (corio::run cancels the main task on SIGINT/SIGTERM).
corio::task<> serve(std::uint16_t port, std::string database_url) {
    co_await corio::async_with(corio_test_support::start_demo_service(port, std::move(database_url)), [](auto& service) -> corio::task<> {
        std::printf("serving on %s\n", service->url("/").c_str());
        std::fflush(stdout);  // whoever waits for this line may be reading a pipe
        corio::event never;
        co_await never.wait();
    });
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app("Serves corio's demo HTTP service on 127.0.0.1 until SIGINT/SIGTERM. Endpoints: /users /orders "
                 "/slow?ms=N /error /invalid-json /broken /items?page=N "
                 "/flaky?key=K&fail=N&status=S&retry_after=R /headers; with --database also /db/users?team=T /db/sleep?ms=N. "
                 "SIGUSR1 prints every live task to stderr (CORIO_DEBUG=1 adds spawn sites and async stacks).",
                 "corio-serve-demo");
    std::uint16_t port = 8080;
    app.add_option("-p,--port", port, "TCP port (0: any free port)")->capture_default_str();
    std::string database_url;
    app.add_option("--database", database_url,
                   "PostgreSQL URL or conninfo (postgresql://user:password@host/db): serve /db/* through a pool, "
                   "creating table demo_users if missing");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    try {
        // SIGUSR1 prints every live task (connections, handlers, the pool) to stderr.
        corio::run(serve(port, database_url), {.dump_tasks_on_sigusr1 = true});
    } catch (const corio::cancelled_error&) {
        std::printf("stopped\n");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "corio-serve-demo: %s\n", e.what());
        return 1;
    }
    return 0;
}
