// http::auth: the Authorization values (RFC 7617's example, the same bytes curl -u sends), which
// credentials win, user:password from the URL kept out of messages, and credentials never sent
// to another origin on a redirect.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/http/auth.hpp>
#include <corio/http/server.hpp>

#include "serve_app.hpp"

#include <string>

using namespace std::chrono_literals;
using corio::http::auth;
using corio::http::client_session;
using corio::http::request_options;
using corio::http::server;
using corio_test_support::base_url;
using corio_test_support::output_of;
using corio_test_support::with_app;

namespace {

/// GET /echo answers the Authorization it got ("none" without); GET /here redirects to /echo
/// on the same server.
void add_echo(server& app) {
    app.get("/echo", [](corio::http::request& req) -> corio::task<corio::http::response> {
        co_return corio::http::response::text(std::string(req.headers().get("Authorization").value_or("none")));
    });
    app.get("/here", [](corio::http::request&) -> corio::task<corio::http::response> {
        corio::http::response moved(302);
        moved.headers().add("Location", "/echo");
        co_return moved;
    });
}

corio::task<std::string> authorization_sent(client_session& session, std::string url, request_options options) {
    auto response = co_await session.get(std::move(url), std::move(options));
    co_return co_await response.text();
}

}  // namespace

TEST(http_auth, basic_is_rfc_7617s_encoding) {
    EXPECT_EQ(auth::basic("Aladdin", "open sesame").header_value(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    EXPECT_EQ(auth::basic("", "").header_value(), "Basic Og==");
    EXPECT_EQ(auth::bearer("abc.DEF-_~+/==").header_value(), "Bearer abc.DEF-_~+/==");
}

TEST(http_auth, refuses_what_cannot_be_sent) {
    EXPECT_THROW(auth::basic("a:b", "pw"), std::invalid_argument);
    EXPECT_THROW(auth::bearer("two words"), std::invalid_argument);
    EXPECT_THROW(auth::bearer("token\r\nX-Evil: 1"), std::invalid_argument);
    EXPECT_THROW(auth::bearer(""), std::invalid_argument);
}

TEST(http_auth, sends_the_bytes_curl_sends) {
    CORIO_REQUIRE_PROGRAM("curl", "curl");
    server app;
    add_echo(app);
    with_app(app, [](server& a) -> corio::task<> {
        const std::string command = "curl -s -u 'Jörg:p@ss w:rd' " + base_url(a) + "/echo";
        const auto run_curl = [command] { return output_of(command); };
        const std::string from_curl = co_await corio::to_thread(run_curl);
        client_session session;
        const std::string ours =
            co_await authorization_sent(session, base_url(a) + "/echo", request_options().auth(auth::basic("Jörg", "p@ss w:rd")));
        EXPECT_EQ(ours, from_curl);
        co_await session.aclose();
    });
}

TEST(http_auth, the_request_wins_over_the_url_and_the_session) {
    server app;
    add_echo(app);
    with_app(app, [](server& a) -> corio::task<> {
        corio::http::session_options options;
        options.auth = auth::bearer("session-token");
        client_session session(options);
        const std::string url = base_url(a) + "/echo";
        const std::string with_userinfo = "http://ann:p%40ss@" + a.local_endpoint()->to_string() + "/echo";
        const std::string session_only = co_await authorization_sent(session, url, request_options());
        EXPECT_EQ(session_only, "Bearer session-token");
        const std::string from_url = co_await authorization_sent(session, with_userinfo, request_options());
        EXPECT_EQ(from_url, auth::basic("ann", "p@ss").header_value());
        const std::string from_request = co_await authorization_sent(session, with_userinfo, request_options().auth(auth::bearer("mine")));
        EXPECT_EQ(from_request, "Bearer mine");
        const std::string own_header = co_await authorization_sent(session, url, request_options().header("Authorization", "Custom x"));
        EXPECT_EQ(own_header, "Custom x");
        co_await session.aclose();
    });
}

TEST(http_auth, the_urls_password_stays_out_of_messages) {
    server app;
    add_echo(app);
    with_app(app, [](server& a) -> corio::task<> {
        client_session session;
        const std::string url = "http://ann:hunter2@" + a.local_endpoint()->to_string() + "/missing";
        try {
            co_await session.get(url, request_options().raise_for_status(true));
            ADD_FAILURE() << "no status_error";
        } catch (const corio::http::status_error& e) {
            EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
            EXPECT_EQ(e.url().find("ann"), std::string::npos) << e.url();
        }
        co_await session.aclose();
    });
}

TEST(http_auth, a_redirect_to_another_origin_drops_the_credentials) {
    server first;
    server other;  // another port: another origin
    add_echo(first);
    add_echo(other);
    with_app(other, [&first](server& b) -> corio::task<> {
        const std::string elsewhere = base_url(b) + "/echo";
        first.get("/away", [elsewhere](corio::http::request&) -> corio::task<corio::http::response> {
            corio::http::response moved(302);
            moved.headers().add("Location", elsewhere);
            co_return moved;
        });
        co_await first.start(corio::net::endpoint::parse("127.0.0.1", 0));
        client_session session;
        const request_options credentials = request_options().auth(auth::bearer("t0ken"));
        const std::string same_origin = co_await authorization_sent(session, base_url(first) + "/here", credentials);
        EXPECT_EQ(same_origin, "Bearer t0ken");
        const std::string other_origin = co_await authorization_sent(session, base_url(first) + "/away", credentials);
        EXPECT_EQ(other_origin, "none");
        co_await session.aclose();
        first.stop(1s);
        co_await first.wait_closed();
    });
}
