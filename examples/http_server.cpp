// An HTTP service with corio: routes, JSON, a /healthz endpoint, a handler deadline, and a
// graceful shutdown while a request is in flight. It calls itself with the client to show it.
#include <corio/corio.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
namespace http = corio::http;

// [snippet server]
/// The service's routes. Handlers are coroutines; what they throw becomes a logged 500.
void add_routes(http::server& app, corio::event& export_started) {
    app.get("/healthz", [](http::request&) -> corio::task<http::response> {
        co_return http::response::json({{"status", "ok"}});
    });
    app.get("/users/{id}", [](http::request& req) -> corio::task<http::response> {
        co_await corio::sleep(10ms);  // e.g. a database call
        co_return http::response::json({{"id", std::string(req.param("id"))}, {"name", "ada"}});
    });
    app.post("/users", [](http::request& req) -> corio::task<http::response> {
        const nlohmann::json user = req.json();  // invalid JSON: answered 400
        co_return http::response::json({{"created", user.at("name")}}, 201);
    });
    app.get("/report", [](http::request&) -> corio::task<http::response> {
        co_await corio::sleep(10s);  // slower than handler_timeout: cancelled, answered 503
        co_return http::response::text("never sent");
    });
    app.get("/export", [&export_started](http::request&) -> corio::task<http::response> {
        export_started.set();         // (the shutdown example waits for this)
        co_await corio::sleep(50ms);  // e.g. a long query
        co_return http::response::text("exported");
    });
}
// [end snippet]

void expect(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

corio::task<> exercise(http::server& app, corio::event& export_started) {
    const std::string base = "http://" + app.local_endpoint()->to_string();
    http::client_session session;
    auto health = co_await session.get(base + "/healthz");
    expect(health.status() == 200 && (co_await health.json())["status"] == "ok", "GET /healthz -> 200 ok");
    auto user = co_await session.get(base + "/users/7");
    expect((co_await user.json())["id"] == "7", "GET /users/7 -> the path parameter");
    const nlohmann::json ada = {{"name", "ada"}};
    auto created = co_await session.post(base + "/users", http::request_options().json(ada));
    expect(created.status() == 201, "POST /users -> 201");
    auto broken = co_await session.post(base + "/users", http::request_options().body("{not json"));
    expect(broken.status() == 400, "POST invalid JSON -> 400");
    auto slow = co_await session.get(base + "/report");
    expect(slow.status() == 503, "a handler past its deadline -> cancelled, 503");
    auto missing = co_await session.delete_(base + "/healthz");
    expect(missing.status() == 405 && missing.headers().get("Allow") == "GET", "wrong method -> 405 with Allow");

    // [snippet shutdown]
    // Graceful shutdown: a request in flight still gets its answer.
    auto in_flight = corio::spawn(session.get(base + "/export"));
    co_await export_started.wait();  // its handler runs
    app.stop(5s);  // stop accepting, close idle connections, let requests finish (up to 5 s)
    auto answer = co_await in_flight;
    // [end snippet]
    expect(answer.status() == 200, "the request in flight during stop() was answered");
}

/// The example of corio/http/server.hpp: one route, served until stop().
corio::task<> items_example() {
    // [snippet items]
    http::server app;
    app.get("/items/{id}", [](http::request& req) -> corio::task<http::response> {
        co_return http::response::json({{"id", std::string(req.param("id"))}});
    });
    const auto where = co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));  // listening from here
    // [end snippet]
    http::client_session session;
    auto item = co_await session.get("http://" + where.to_string() + "/items/42");
    expect((co_await item.json())["id"] == "42", "GET /items/42 -> {\"id\": \"42\"}");
    app.stop();
    co_await app.wait_closed();
}

int main() {
    // [snippet serve]
    http::server app({.handler_timeout = 200ms});
    corio::event export_started;
    add_routes(app, export_started);
    corio::run(corio::invoke([&app, &export_started]() -> corio::task<> {
        const auto where = co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));
        std::printf("serving on http://%s\n", where.to_string().c_str());
        co_await exercise(app, export_started);
        co_await app.wait_closed();  // returns once stop() has finished the shutdown
    }));
    // [end snippet]
    corio::run(items_example());
}
