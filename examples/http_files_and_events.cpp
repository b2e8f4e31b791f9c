// Static files and server-sent events with corio's HTTP server: a directory served with
// validators and ranges, and a live feed of events with heartbeats.
#include <corio/corio.hpp>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
namespace http = corio::http;

// [snippet sse]
/// A feed of prices: each one goes out as soon as it is yielded; while the feed waits, a
/// heartbeat keeps the connection (and notices a client that left: the generator is then
/// destroyed, its cleanup run).
corio::async_generator<http::sse_event> prices() {
    for (int seq = 1; seq <= 3; ++seq) {
        co_await corio::sleep(20ms);  // e.g. waiting on a market feed
        co_yield http::sse_event(R"({"price": )" + std::to_string(100 + seq) + "}").type("price").id(std::to_string(seq));
    }
}

void add_feed(http::server& app) {
    app.get("/prices", [](http::request&) -> corio::task<http::response> {
        co_return http::response::sse(prices(), {.heartbeat = 15s});
    });
}
// [end snippet]

void expect(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

corio::task<> exercise(http::server& app) {
    const std::string base = "http://" + app.local_endpoint()->to_string();
    http::client_session session;
    auto page = co_await session.get(base + "/assets/");
    expect(co_await page.text() == "<h1>corio</h1>\n", "GET /assets/ -> index.html");
    const std::string etag(page.headers().get("ETag").value_or(""));
    auto again = co_await session.get(base + "/assets/", http::request_options().header("If-None-Match", etag));
    expect(again.status() == 304, "the same ETag again -> 304 Not Modified");
    auto part = co_await session.get(base + "/assets/index.html", http::request_options().header("Range", "bytes=4-8"));
    expect(part.status() == 206 && co_await part.text() == "corio", "a byte range -> 206");
    auto escape = co_await session.get(base + "/assets/%2e%2e/etc/passwd");
    expect(escape.status() == 404, "a way out of the directory -> 404");
    auto feed = co_await session.get(base + "/prices");
    const std::string events = co_await feed.text();
    expect(events.find("event: price\nid: 3\ndata: {\"price\": 103}\n\n") != std::string::npos, "three price events");
    co_await session.aclose();
}

int main() {
    const auto site = std::filesystem::temp_directory_path() / ("corio-example-site-" + std::to_string(::getpid()));
    std::filesystem::create_directories(site);
    std::ofstream(site / "index.html") << "<h1>corio</h1>\n";
    http::server app;
    // [snippet static]
    app.static_files("/assets", site.string(), {.max_age = 1h});  // GET/HEAD, ETag, ranges, index.html
    // [end snippet]
    add_feed(app);
    int status = 0;
    try {
        corio::run(corio::invoke([&app]() -> corio::task<> {
            co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));
            co_await exercise(app);
            app.stop(1s);
            co_await app.wait_closed();
        }));
    } catch (const std::exception& e) {
        std::printf("failed: %s\n", e.what());
        status = 1;
    }
    std::filesystem::remove_all(site);
    return status;
}
