// http::server serving on a net::unix_listener and http::client_session reaching it through
// session_options::unix_socket (a local daemon's API over a socket file, as Docker's).
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <sys/stat.h>

#include <corio/corio.hpp>
#include <corio/http/client_session.hpp>
#include <corio/http/server.hpp>
#include <corio/net/unix.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

using corio_test::expect_throws;
using namespace std::chrono_literals;
using corio::http::client_session;
using corio::http::request;
using corio::http::response;
using corio::http::server;

namespace {

bool exists(const std::string& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
}

/// A server answering GET /v1/info with the request's Host and whether it has a peer address.
void add_info_route(server& app) {
    app.get("/v1/info", [](request& req) -> corio::task<response> {
        co_return response::json({{"host", std::string(req.headers().get("Host").value_or(""))},
                                  {"peer_family", req.peer().family()}});
    });
}

TEST(http_unix, a_session_reaches_a_server_on_a_socket_file_and_reuses_the_connection) {
    char pattern[] = "/tmp/corio-http-unix-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    const std::string path = std::string(pattern) + "/api.sock";
    server app;
    add_info_route(app);
    corio::run([&]() -> corio::task<> {
        auto serving = corio::spawn(app.serve(corio::net::unix_listener::bind(path)));
        corio::http::session_options options;
        options.unix_socket = path;
        options.trust_env = false;
        client_session session(options);
        for (int i = 0; i < 2; ++i) {
            auto info = co_await session.get("http://daemon/v1/info");
            EXPECT_EQ(info.status(), 200);
            EXPECT_EQ((co_await info.json()).dump(), R"({"host":"daemon","peer_family":0})");
        }
        EXPECT_EQ(session.open_connections(), 1u);  // kept alive and reused
        EXPECT_FALSE(app.local_endpoint().has_value());
        co_await expect_throws<corio::net::connect_error>(session.get("https://daemon/v1/info"), "only http://");
        app.stop();
        co_await serving;
        EXPECT_FALSE(exists(path));  // the listener removed its socket file at shutdown
    }());
    std::filesystem::remove_all(pattern);
}

TEST(http_unix, a_missing_socket_is_a_connect_error_naming_its_path) {
    const std::string path = "/tmp/corio-no-such-dir/api.sock";
    corio::run([&]() -> corio::task<> {
        corio::http::session_options options;
        options.unix_socket = path;
        options.trust_env = false;
        client_session session(options);
        co_await expect_throws<corio::net::connect_error>(session.get("http://daemon/"), path);
    }());
}

TEST(http_unix, the_abstract_namespace_serves_too) {
    const std::string name = "@corio-http-unix-" + std::to_string(::getpid());
    server app;
    add_info_route(app);
    corio::run([&]() -> corio::task<> {
        auto serving = corio::spawn(app.serve(corio::net::unix_listener::bind(name)));
        corio::http::session_options options;
        options.unix_socket = name;
        options.trust_env = false;
        client_session session(options);
        auto info = co_await session.get("http://localhost/v1/info");
        EXPECT_EQ(info.status(), 200);
        co_await info.text();
        serving.cancel();  // cancelling serve() shuts down gracefully too
        EXPECT_THROW(co_await serving, corio::cancelled_error);
    }());
}

}  // namespace
