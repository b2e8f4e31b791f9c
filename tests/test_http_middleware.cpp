// http::server middleware (order, short-circuits, groups, errors), the built-in ones (access
// log, CORS, compression), per-route body limits and request ids, on loopback against corio's
// client, curl and raw sockets.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/context_var.hpp>
#include <corio/corio.hpp>
#include <corio/http/middleware.hpp>
#include <corio/http/server.hpp>

#include "raw_exchange.hpp"
#include "serve_app.hpp"

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

using namespace std::chrono_literals;
using corio::http::client_session;
using corio::http::next_handler;
using corio::http::request;
using corio::http::response;
using corio::http::server;

using corio_test_support::base_url;
using corio_test_support::output_of;
using corio_test_support::with_app;

namespace {

/// A middleware that appends `name` to the response's X-Trail on its way out.
corio::http::middleware tracing(std::string name) {
    return [name](request& req, next_handler next) -> corio::task<response> {
        response r = co_await next(req);
        const std::string before(r.headers().get("X-Trail").value_or(""));
        r.headers().set("X-Trail", before + (before.empty() ? "" : ",") + name);
        co_return r;
    };
}

corio::async_generator<std::string> two_pieces() {
    co_yield "abc";
    co_yield "defg";
}

corio::task<response> hello(request&) { co_return response::text("hello\n"); }

corio::task<response> big_text(request&) { co_return response::text(std::string(20'000, 'a') + "\n"); }

}  // namespace

TEST(http_middleware, run_in_order_around_the_handler_and_the_groups_inside_the_servers) {
    server app;
    app.use(tracing("outer")).use(tracing("inner"));
    auto admin = app.group("/admin");
    admin.use(tracing("group"));
    admin.get("/stats", hello);
    app.get("/plain", hello);
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        auto r = co_await session.get(base_url(app) + "/admin/stats");
        EXPECT_EQ(co_await r.text(), "hello\n");
        EXPECT_EQ(r.headers().get("X-Trail").value_or(""), "group,inner,outer");  // responses unwind inside out
        auto plain = co_await session.get(base_url(app) + "/plain");
        EXPECT_EQ(plain.headers().get("X-Trail").value_or(""), "inner,outer");
        auto missing = co_await session.get(base_url(app) + "/nowhere");  // a 404 goes through the server's too
        EXPECT_EQ(missing.status(), 404);
        EXPECT_EQ(missing.headers().get("X-Trail").value_or(""), "inner,outer");
        co_await session.aclose();
    });
}

TEST(http_middleware, can_answer_itself_without_reading_the_body_or_calling_the_handler) {
    server app;
    int handled = 0;
    auto api = app.group("/api");
    api.use([](request& req, next_handler next) -> corio::task<response> {
        if (req.headers().get("Authorization").value_or("") != "Bearer good") co_return response::text("no\n", 401);
        co_return co_await next(req);
    });
    api.post("/items", [&handled](request& req) -> corio::task<response> {
        ++handled;
        co_return response::text("got " + std::to_string(req.body().size()) + "\n");
    });
    with_app(app, [&handled](server& app) -> corio::task<> {
        client_session session;
        auto refused = co_await session.post(base_url(app) + "/api/items", corio::http::request_options().body("x"));
        EXPECT_EQ(refused.status(), 401);
        auto allowed = co_await session.post(base_url(app) + "/api/items",
                                             corio::http::request_options().body("xyz").header("Authorization", "Bearer good"));
        EXPECT_EQ(co_await allowed.text(), "got 3\n");
        EXPECT_EQ(handled, 1);
        co_await session.aclose();
    });
}

TEST(http_middleware, a_handlers_exception_passes_through_middleware_that_may_catch_it) {
    server app;
    app.use([](request& req, next_handler next) -> corio::task<response> {
        try {
            co_return co_await next(req);
        } catch (const std::out_of_range& e) {
            co_return response::json({{"error", e.what()}}, 404);
        }
    });
    app.get("/lookup", [](request&) -> corio::task<response> {
        throw std::out_of_range("no such item");
        co_return response::text("unreachable");
    });
    app.get("/crash", [](request&) -> corio::task<response> {
        throw std::runtime_error("boom");
        co_return response::text("unreachable");
    });
    std::vector<std::string> logged;
    const auto previous = corio::set_error_logger([&](std::string_view m) { logged.emplace_back(m); });
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        auto lookup = co_await session.get(base_url(app) + "/lookup");
        EXPECT_EQ(lookup.status(), 404);
        EXPECT_EQ((co_await lookup.json())["error"], "no such item");
        auto crash = co_await session.get(base_url(app) + "/crash");
        EXPECT_EQ(crash.status(), 500);
        co_await session.aclose();
    });
    corio::set_error_logger(previous);
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_NE(logged[0].find("GET /crash failed: boom [request_id="), std::string::npos) << logged[0];
}

TEST(http_middleware, next_may_be_called_again_to_retry) {
    server app;
    int calls = 0;
    app.use([](request& req, next_handler next) -> corio::task<response> {
        response first = co_await next(req);
        if (first.status() != 503) co_return first;
        co_return co_await next(req);
    });
    app.get("/flaky", [&calls](request&) -> corio::task<response> {
        co_return ++calls == 1 ? response::text("busy\n", 503) : response::text("ok\n");
    });
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        auto r = co_await session.get(base_url(app) + "/flaky");
        EXPECT_EQ(r.status(), 200);
        co_await session.aclose();
    });
    EXPECT_EQ(calls, 2);
}

TEST(http_middleware, access_log_writes_what_went_on_the_wire_as_text_and_json_lines) {
    std::vector<std::string> text_lines, json_lines;
    server app;
    app.use(corio::http::access_log({.text_format = "{method} {path} {status} {bytes} {request_id}",
                                     .sink = [&](std::string_view l) { text_lines.emplace_back(l); }}));
    app.use(corio::http::access_log({.format = corio::http::access_log_options::json_lines,
                                     .sink = [&](std::string_view l) { json_lines.emplace_back(l); }}));
    app.get("/hello", hello);
    app.get("/stream", [](request&) -> corio::task<response> {
        co_return response::stream(two_pieces());
    });
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        auto a = co_await session.get(base_url(app) + "/hello");
        co_await a.text();
        auto b = co_await session.get(base_url(app) + "/stream");
        EXPECT_EQ(co_await b.text(), "abcdefg");
        auto c = co_await session.get(base_url(app) + "/missing?x=1");
        co_await c.text();
        co_await session.aclose();
    });
    ASSERT_EQ(text_lines.size(), 3u);
    EXPECT_EQ(text_lines[0], "GET /hello 200 6 1");
    EXPECT_EQ(text_lines[1], "GET /stream 200 7 2");  // a streamed body's bytes, counted as sent
    EXPECT_EQ(text_lines[2], "GET /missing 404 10 3");
    ASSERT_EQ(json_lines.size(), 3u);
    const auto line = nlohmann::json::parse(json_lines[2]);
    EXPECT_EQ(line["method"], "GET");
    EXPECT_EQ(line["target"], "/missing?x=1");
    EXPECT_EQ(line["status"], 404);
    EXPECT_EQ(line["request_id"], "3");
    EXPECT_EQ(line["complete"], true);
    EXPECT_GE(line["duration_ms"].get<double>(), 0.0);
}

TEST(http_middleware, access_log_refuses_an_unknown_field) {
    EXPECT_THROW(corio::http::access_log({.text_format = "{method} {nope}"}), std::invalid_argument);
    EXPECT_THROW(corio::http::access_log({.text_format = "{method"}), std::invalid_argument);
}

TEST(http_middleware, cors_answers_preflights_and_marks_allowed_origins_only) {
    server app;
    app.use(corio::http::cors({.allow_origins = {"https://app.example"}, .allow_credentials = true}));
    app.post("/items", hello);
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        auto pre = co_await session.request(
            "OPTIONS", base_url(app) + "/items",
            corio::http::request_options()
                .header("Origin", "https://app.example")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type, x-request-id"));
        EXPECT_EQ(pre.status(), 204);  // no OPTIONS route needed
        EXPECT_EQ(pre.headers().get("Access-Control-Allow-Origin").value_or(""), "https://app.example");
        EXPECT_EQ(pre.headers().get("Access-Control-Allow-Credentials").value_or(""), "true");
        EXPECT_NE(pre.headers().get("Access-Control-Allow-Methods").value_or("").find("POST"), std::string::npos);
        EXPECT_EQ(pre.headers().get("Access-Control-Max-Age").value_or(""), "600");

        auto bad_header = co_await session.request(
            "OPTIONS", base_url(app) + "/items",
            corio::http::request_options()
                .header("Origin", "https://app.example")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "x-secret"));
        EXPECT_EQ(bad_header.status(), 403);
        EXPECT_NE((co_await bad_header.text()).find("header x-secret is not allowed"), std::string::npos);

        auto actual = co_await session.post(base_url(app) + "/items",
                                            corio::http::request_options().body("x").header("Origin", "https://app.example"));
        EXPECT_EQ(actual.headers().get("Access-Control-Allow-Origin").value_or(""), "https://app.example");
        EXPECT_EQ(actual.headers().get("Vary").value_or(""), "Origin");
        auto foreign = co_await session.post(base_url(app) + "/items",
                                             corio::http::request_options().body("x").header("Origin", "https://evil.example"));
        EXPECT_EQ(foreign.status(), 200);  // answered, but a browser will not let the page read it
        EXPECT_FALSE(foreign.headers().contains("Access-Control-Allow-Origin"));
        co_await session.aclose();
    });
}

TEST(http_middleware, cors_refuses_credentials_for_every_origin) {
    EXPECT_THROW(corio::http::cors({.allow_credentials = true}), std::invalid_argument);
}

TEST(http_middleware, cors_preflight_as_curl_sends_it) {
    CORIO_REQUIRE_PROGRAM("curl", "curl");
    server app;
    app.use(corio::http::cors());
    app.put("/items/{id}", hello);
    with_app(app, [](server& app) -> corio::task<> {
        const std::string command = "curl -s -i -X OPTIONS -H 'Origin: http://localhost:3000' "
                                    "-H 'Access-Control-Request-Method: PUT' " + base_url(app) + "/items/7";
        auto run_curl = [command] { return output_of(command); };
        const std::string out = co_await corio::to_thread(run_curl);
        EXPECT_NE(out.find("HTTP/1.1 204"), std::string::npos) << out;
        EXPECT_NE(out.find("Access-Control-Allow-Origin: *"), std::string::npos) << out;
    });
}

TEST(http_middleware, compress_gzips_large_text_for_clients_that_accept_it) {
    server app;
    app.use(corio::http::compress());
    app.get("/big", big_text);
    app.get("/small", hello);
    app.get("/binary", [](request&) -> corio::task<response> {
        co_return response(200, std::string(20'000, 'b'), "application/octet-stream");
    });
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;  // sends Accept-Encoding: gzip, deflate and decodes
        auto big = co_await session.get(base_url(app) + "/big");
        EXPECT_EQ(big.headers().get("Content-Encoding").value_or(""), "gzip");
        EXPECT_EQ(big.headers().get("Vary").value_or(""), "Accept-Encoding");
        EXPECT_LT(std::stoul(std::string(big.headers().get("Content-Length").value_or("0"))), 1000u);
        EXPECT_EQ(co_await big.text(), std::string(20'000, 'a') + "\n");
        auto small = co_await session.get(base_url(app) + "/small");
        EXPECT_FALSE(small.headers().contains("Content-Encoding"));
        auto binary = co_await session.get(base_url(app) + "/binary");
        EXPECT_FALSE(binary.headers().contains("Content-Encoding"));
        auto refused = co_await session.get(base_url(app) + "/big",
                                            corio::http::request_options().header("Accept-Encoding", "gzip;q=0, br"));
        EXPECT_FALSE(refused.headers().contains("Content-Encoding"));
        EXPECT_EQ((co_await refused.text()).size(), 20'001u);
        co_await session.aclose();
    });
}

TEST(http_middleware, compress_is_decoded_by_curl) {
    CORIO_REQUIRE_PROGRAM("curl", "curl");
    server app;
    app.use(corio::http::compress());
    app.get("/big", big_text);
    with_app(app, [](server& app) -> corio::task<> {
        const std::string command = "curl -s --compressed -w ' %{size_download}' " + base_url(app) + "/big";
        auto run_curl = [command] { return output_of(command); };
        const std::string out = co_await corio::to_thread(run_curl);
        const std::size_t space = out.rfind(' ');
        CO_ASSERT_TRUE(space != std::string::npos);
        EXPECT_EQ(out.substr(0, space), std::string(20'000, 'a') + "\n");
        EXPECT_LT(std::stoul(out.substr(space + 1)), 1000u);  // what went over the wire
    });
}

TEST(http_middleware, a_route_sets_its_own_body_limit_above_or_below_the_servers) {
    server app({.limits = {.max_body_size = 1000}});
    const auto size_of = [](request& req) -> corio::task<response> {
        co_return response::text(std::to_string(req.body().size()));
    };
    app.post("/upload", size_of, {.max_body_size = 100'000});
    app.post("/tiny", size_of, {.max_body_size = 10});
    app.post("/default", size_of);
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        const auto post = [&](std::string path, std::size_t n) {
            return session.post(base_url(app) + path, corio::http::request_options().body(std::string(n, 'x')));
        };
        auto upload = co_await post("/upload", 50'000);
        EXPECT_EQ(co_await upload.text(), "50000");
        auto too_big = co_await post("/upload", 200'000);
        EXPECT_EQ(too_big.status(), 413);
        auto tiny = co_await post("/tiny", 11);
        EXPECT_EQ(tiny.status(), 413);
        auto fits = co_await post("/default", 1000);
        EXPECT_EQ(co_await fits.text(), "1000");
        auto over = co_await post("/default", 1001);
        EXPECT_EQ(over.status(), 413);
        auto nowhere = co_await post("/nowhere", 5000);  // not the largest route's limit
        EXPECT_EQ(nowhere.status(), 413);
        co_await session.aclose();
        // On one connection (which reads every request with one parser), a route's limit ends
        // with its request: the next one has its own route's limit.
        const std::string both = co_await corio_test_support::raw_exchange(
            *app.local_endpoint(),
            "POST /tiny HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nxxxxx"
            "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n" +
                std::string(5000, 'x'));
        EXPECT_EQ(both.rfind("HTTP/1.1 200 ", 0), 0u) << both;
        EXPECT_NE(both.find("\r\n\r\n5HTTP/1.1 200 "), std::string::npos) << both;
        EXPECT_TRUE(both.ends_with("\r\n\r\n5000")) << both;
    });
}

TEST(http_middleware, the_request_id_reaches_handlers_children_logs_and_the_next_hop) {
    server app({.accept_request_id = true});
    std::string seen_downstream;
    app.get("/downstream", [&seen_downstream](request& req) -> corio::task<response> {
        seen_downstream = std::string(req.headers().get("X-Request-Id").value_or("(none)"));
        co_return response::text("ok\n");
    });
    app.get("/front", [](request& req) -> corio::task<response> {
        client_session onward({.send_request_id = true});
        const std::string url = "http://" + std::string(req.headers().get("Host").value_or("")) + "/downstream";
        auto r = co_await corio::spawn(onward.get(url));  // a child task: inherits the id
        co_await r.text();
        co_await onward.aclose();
        co_return response::text(*corio::request_id.get());
    });
    with_app(app, [&seen_downstream](server& app) -> corio::task<> {
        client_session session;
        auto theirs = co_await session.get(base_url(app) + "/front",
                                           corio::http::request_options().header("X-Request-Id", "edge-7f3a"));
        EXPECT_EQ(co_await theirs.text(), "edge-7f3a");
        EXPECT_EQ(theirs.headers().get("X-Request-Id").value_or(""), "edge-7f3a");
        EXPECT_EQ(seen_downstream, "edge-7f3a");
        auto invalid = co_await session.get(base_url(app) + "/front",
                                            corio::http::request_options().header("X-Request-Id", "has spaces; semicolons"));
        const std::string numbered = co_await invalid.text();
        EXPECT_NE(numbered, "has spaces; semicolons");
        EXPECT_EQ(numbered.find_first_not_of("0123456789"), std::string::npos) << numbered;
        EXPECT_EQ(seen_downstream, numbered);
        co_await session.aclose();
    });
}

TEST(http_middleware, an_after_response_callback_that_throws_is_logged_and_the_server_goes_on) {
    server app;
    app.use([](request& req, next_handler next) {
        req.after_response([](const request&, const corio::http::response_sent&) { throw std::runtime_error("sink down"); });
        return next(req);
    });
    app.get("/hello", hello);
    std::vector<std::string> logged;
    const auto previous = corio::set_error_logger([&](std::string_view m) { logged.emplace_back(m); });
    with_app(app, [](server& app) -> corio::task<> {
        const std::string out = co_await corio_test_support::raw_exchange(*app.local_endpoint(), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                                                           "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        std::size_t answered = 0;
        for (auto at = out.find("hello\n"); at != std::string::npos; at = out.find("hello\n", at + 1)) ++answered;
        EXPECT_EQ(answered, 2u);
    });
    corio::set_error_logger(previous);
    ASSERT_EQ(logged.size(), 2u);
    EXPECT_NE(logged[0].find("an after_response callback failed: sink down [request_id=1]"), std::string::npos) << logged[0];
}
