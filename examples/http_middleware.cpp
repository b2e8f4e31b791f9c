// Middleware with corio's HTTP server: your own (an API key check on a route group, timing in a
// response header), the built-in access log, CORS and compression, and the request id that
// follows a request into log lines and onward calls.
#include <corio/context_var.hpp>
#include <corio/corio.hpp>
#include <corio/http/middleware.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
namespace http = corio::http;

// [snippet middleware]
/// Adds how long the rest of the chain took, as Server-Timing.
corio::task<http::response> timing(http::request& req, http::next_handler next) {
    const auto started = std::chrono::steady_clock::now();
    http::response r = co_await next(req);
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
    r.headers().add("Server-Timing", "app;dur=" + std::to_string(took.count()));
    co_return r;
}

/// Refuses requests without the API key, before their body is read.
corio::task<http::response> require_key(http::request& req, http::next_handler next) {
    if (req.headers().get("X-Api-Key") != "s3cret") co_return http::response::text("unauthorized\n", 401);
    co_return co_await next(req);
}

void add_routes(http::server& app) {
    app.use(timing);  // around every request, 404s included
    auto admin = app.group("/admin");
    admin.use(require_key);  // inside the server's middleware, for /admin/... only
    admin.get("/stats", [](http::request&) -> corio::task<http::response> {
        corio::log_error("stats asked for");  // the line ends with [request_id=...]
        co_return http::response::json({{"requests", 42}});
    });
    app.post("/upload", [](http::request& req) -> corio::task<http::response> {
        co_return http::response::json({{"bytes", req.body().size()}});
    }, {.max_body_size = 8 << 20});  // this route takes more than the server's default
}
// [end snippet]

void expect(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

corio::task<> exercise(http::server& app, const std::vector<std::string>& access) {
    const std::string base = "http://" + app.local_endpoint()->to_string();
    http::client_session session;
    auto refused = co_await session.get(base + "/admin/stats");
    expect(refused.status() == 401, "no key -> 401 from the group's middleware");
    auto stats = co_await session.get(base + "/admin/stats", http::request_options().header("X-Api-Key", "s3cret"));
    expect(stats.status() == 200 && stats.headers().contains("Server-Timing"), "with the key -> 200, timed");
    auto missing = co_await session.get(base + "/nowhere");
    expect(missing.status() == 404 && missing.headers().contains("Server-Timing"), "a 404 passes the server's middleware");
    auto upload = co_await session.post(base + "/upload", http::request_options().body(std::string(2 << 20, 'x')));
    expect((co_await upload.json())["bytes"] == 2 << 20, "a 2 MiB upload to the route with its own limit");
    auto page = co_await session.get(base + "/admin/stats", http::request_options()
                                                               .header("X-Api-Key", "s3cret")
                                                               .header("Origin", "https://app.example"));
    expect(page.headers().get("Access-Control-Allow-Origin") == "https://app.example", "CORS for the allowed origin");
    co_await session.aclose();
    expect(access.size() == 5, "the access log has a line per request");
}

int main() {
    std::vector<std::string> access;
    std::vector<std::string> errors;
    corio::set_error_logger([&errors](std::string_view line) { errors.emplace_back(line); });
    http::server app({.limits = {.max_body_size = 1 << 20}});
    // [snippet builtins]
    app.use(http::access_log({.format = http::access_log_options::json_lines,
                              .sink = [&access](std::string_view line) { access.emplace_back(line); }}));
    app.use(http::cors({.allow_origins = {"https://app.example"}}));
    app.use(http::compress());
    // [end snippet]
    add_routes(app);
    corio::run(corio::invoke([&]() -> corio::task<> {
        co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));
        co_await exercise(app, access);
        app.stop(1s);
        co_await app.wait_closed();
    }));
    for (const auto& line : access) std::printf("  access: %s\n", line.c_str());
    for (const auto& line : errors) std::printf("  logged: %s\n", line.c_str());
    expect(errors.size() == 2 && errors[0] == "stats asked for [request_id=2]", "a log line names its request");
    return 0;
}
