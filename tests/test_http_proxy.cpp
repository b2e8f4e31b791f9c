// The HTTP client through proxies: plain http forwarded in absolute form, https and WebSocket
// through CONNECT tunnels, proxy credentials, no_proxy, the environment's proxies, failures named;
// against a forward proxy written here (it logs what it was asked) and Debian's tinyproxy.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "tls_test_pki.hpp"

#include <corio/corio.hpp>
#include <corio/http/client_session.hpp>
#include <corio/http/server.hpp>

#include "../src/http/proxy.hpp"
#include "free_port.hpp"
#include "nginx_process.hpp"
#include "serve_app.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using corio::http::client_session;
using corio::http::request;
using corio::http::response;
using corio::http::server;
using corio::http::session_options;
using corio::net::tcp_stream;
using corio_test_support::base_url;
using corio_test_support::with_app;

namespace {

/// One request a proxy received: its request line and Proxy-Authorization ("" if none).
struct proxy_request {
    std::string method;
    std::string target;
    std::string authorization;
};

/// A forward proxy for the tests: CONNECT opens a tunnel to the host and port asked for, any
/// other request (absolute form) is sent on to its origin in origin form, without the proxy's
/// credentials; then bytes are relayed both ways until either side closes. With `credentials`
/// set, a request without that Proxy-Authorization gets 407. Every head it read is in requests().
class forward_proxy {
public:
    explicit forward_proxy(std::string credentials = {})
        : listener_(corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0))),
          credentials_(std::move(credentials)) {}

    std::string url() const { return "http://" + listener_.local_endpoint().to_string(); }
    int port() const { return listener_.local_endpoint().port(); }
    const std::vector<proxy_request>& requests() const { return requests_; }

    /// Serves until cancelled.
    corio::task<> serve() {
        co_await corio::with_task_group([this](corio::task_group& group) -> corio::task<> {
            for (;;) {
                tcp_stream client = co_await listener_.accept();
                group.spawn(handle(std::move(client)));
            }
        });
    }

private:
    /// One client connection; its failures (an origin that refuses) end it alone.
    corio::task<> handle(tcp_stream client) {
        try {
            co_await exchange(client);
        } catch (const corio::error&) {
            client.abort();
        }
    }

    corio::task<> exchange(tcp_stream& client) {
        std::string received;
        std::size_t end = 0;
        while ((end = received.find("\r\n\r\n")) == std::string::npos) {
            char chunk[4096];
            const std::size_t n = co_await client.read_some(chunk);
            if (n == 0) co_return;
            received.append(chunk, n);
        }
        const std::string head = received.substr(0, end + 2);
        const std::string rest = received.substr(end + 4);
        proxy_request asked = parse(head);
        requests_.push_back(asked);
        if (asked.authorization != credentials_) {
            co_await client.write_all("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"t\"\r\n"
                                      "Content-Length: 0\r\nConnection: close\r\n\r\n");
            co_return;
        }
        tcp_stream upstream;
        if (asked.method == "CONNECT") {
            const auto colon = asked.target.rfind(':');
            upstream = co_await tcp_stream::connect(asked.target.substr(0, colon),
                                                    static_cast<std::uint16_t>(std::stoi(asked.target.substr(colon + 1))));
            co_await client.write_all("HTTP/1.1 200 Connection Established\r\n\r\n");
        } else {
            const auto origin = corio::http::url::parse(asked.target);
            upstream = co_await tcp_stream::connect(origin.host(), origin.port());
            co_await upstream.write_all(without_credentials(head, asked, origin.target()) + "\r\n" + rest);
        }
        co_await corio::gather(relay(client, upstream), relay(upstream, client));
    }

    static proxy_request parse(const std::string& head) {
        proxy_request r;
        const auto space = head.find(' ');
        r.method = head.substr(0, space);
        r.target = head.substr(space + 1, head.find(' ', space + 1) - space - 1);
        const std::string field = "\r\nProxy-Authorization: ";
        if (const auto at = head.find(field); at != std::string::npos)
            r.authorization = head.substr(at + field.size(), head.find("\r\n", at + 2) - at - field.size());
        return r;
    }

    /// The head in origin form, its Proxy-Authorization line dropped.
    static std::string without_credentials(const std::string& head, const proxy_request& asked, const std::string& target) {
        std::string out = asked.method + " " + target + head.substr(head.find(" HTTP/1.1\r\n"));
        if (const auto at = out.find("\r\nProxy-Authorization: "); at != std::string::npos)
            out.erase(at, out.find("\r\n", at + 2) - at);
        return out;
    }

    static corio::task<> relay(tcp_stream& from, tcp_stream& to) {
        try {
            char chunk[16384];
            for (std::size_t n; (n = co_await from.read_some(chunk)) != 0;) co_await to.write_all(std::string_view(chunk, n));
            to.shutdown_write();
        } catch (const corio::connection_error&) {
            to.close();
        }
    }

    corio::net::tcp_listener listener_;
    std::string credentials_;  // the Proxy-Authorization asked for ("" = none)
    std::vector<proxy_request> requests_;
};

/// Runs `body(app, proxy)` with `app` served on 127.0.0.1 and a forward_proxy (asking for
/// `credentials`) serving beside it.
template <class Body>
void with_proxy(server& app, Body body, std::string credentials = {}) {
    with_app(app, [&credentials, body = std::move(body)](server& app) -> corio::task<> {
        forward_proxy proxy(credentials);
        auto serving = corio::spawn(proxy.serve());
        co_await body(app, proxy);
        serving.cancel();
        co_await corio::gather_settled(std::move(serving));
    });
}

void add_routes(server& app) {
    app.get("/hello", [](request& req) -> corio::task<response> {
        co_return response::text("hello, proxy credentials " + std::string(req.headers().contains("Proxy-Authorization") ? "seen" : "unseen"));
    });
}

session_options via(const forward_proxy& proxy) {
    session_options options;
    options.proxy = proxy.url();
    return options;
}

/// Sets an environment variable for one scope.
class scoped_env {
public:
    scoped_env(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
    scoped_env(const scoped_env&) = delete;
    ~scoped_env() { ::unsetenv(name_); }

private:
    const char* name_;
};

}  // namespace

TEST(http_proxy, plain_http_is_forwarded_in_absolute_form) {
    server app;
    add_routes(app);
    with_proxy(app, [](server& app, forward_proxy& proxy) -> corio::task<> {
        client_session session(via(proxy));
        auto first = co_await session.get(base_url(app) + "/hello?x=1");
        EXPECT_EQ(co_await first.text(), "hello, proxy credentials unseen");
        CO_ASSERT_EQ(proxy.requests().size(), 1u);
        EXPECT_EQ(proxy.requests()[0].method, "GET");
        EXPECT_EQ(proxy.requests()[0].target, base_url(app) + "/hello?x=1");  // absolute form
        auto second = co_await session.get(base_url(app) + "/hello");
        EXPECT_EQ(second.status(), 200);
        EXPECT_EQ(proxy.requests().size(), 1u);  // the same connection to the proxy, kept alive
        co_await session.aclose();
    });
}

TEST(http_proxy, https_goes_through_a_connect_tunnel_and_the_credentials_stay_with_the_proxy) {
    const auto pki = corio_test::test_pki::create();
    server app;
    add_routes(app);
    corio::run(corio::invoke([&]() -> corio::task<> {
        forward_proxy proxy("Basic dXNlcjpzZWNyZXQ=");  // user:secret
        auto tls = corio::net::tls_context::server({.certificate_chain_file = pki.cert_file, .private_key_file = pki.key_file});
        co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0), std::move(tls));
        auto serving = corio::spawn(proxy.serve());
        const std::string port = std::to_string(app.local_endpoint()->port());
        session_options options;
        options.proxy = "http://user:secret@127.0.0.1:" + std::to_string(proxy.port());
        options.ca_file = pki.ca_file;
        client_session session(options);
        for (int i = 0; i < 2; ++i) {
            auto hello = co_await session.get("https://localhost:" + port + "/hello");
            EXPECT_EQ(co_await hello.text(), "hello, proxy credentials unseen");  // inside the tunnel: not sent
        }
        CO_ASSERT_EQ(proxy.requests().size(), 1u);  // one tunnel, reused
        EXPECT_EQ(proxy.requests()[0].method, "CONNECT");
        EXPECT_EQ(proxy.requests()[0].target, "localhost:" + port);
        co_await session.aclose();
        serving.cancel();
        co_await corio::gather_settled(std::move(serving));
        app.stop(1s);
        co_await app.wait_closed();
    }));
}

TEST(http_proxy, credentials_from_proxy_auth_and_a_refusal_named) {
    server app;
    add_routes(app);
    with_proxy(app, [](server& app, forward_proxy& proxy) -> corio::task<> {
        client_session anonymous(via(proxy));
        auto refused = co_await anonymous.get(base_url(app) + "/hello");
        EXPECT_EQ(refused.status(), 407);  // forwarded http: the proxy's answer is the response
        session_options options = via(proxy);
        options.proxy_auth = corio::http::auth::basic("user", "secret");
        client_session allowed(options);
        auto hello = co_await allowed.get(base_url(app) + "/hello");
        EXPECT_EQ(co_await hello.text(), "hello, proxy credentials unseen");  // the proxy took them off
        EXPECT_EQ(proxy.requests().back().authorization, "Basic dXNlcjpzZWNyZXQ=");
        // A tunnel the proxy refuses: proxy_error with its status, naming the request and proxy.
        try {
            co_await anonymous.get("https://localhost:" + std::to_string(app.local_endpoint()->port()) + "/hello");
            ADD_FAILURE() << "no proxy_error";
        } catch (const corio::http::proxy_error& e) {
            EXPECT_EQ(e.status(), 407);
            const std::string what = e.what();
            EXPECT_NE(what.find("GET https://localhost:"), std::string::npos) << what;
            EXPECT_NE(what.find("the proxy " + proxy.url() + " refused CONNECT localhost:"), std::string::npos) << what;
            EXPECT_NE(what.find("407 Proxy Authentication Required"), std::string::npos) << what;
        }
        co_await anonymous.aclose();
        co_await allowed.aclose();
    }, "Basic dXNlcjpzZWNyZXQ=");
}

TEST(http_proxy, no_proxy_hosts_are_reached_directly) {
    server app;
    add_routes(app);
    with_proxy(app, [](server& app, forward_proxy& proxy) -> corio::task<> {
        session_options options = via(proxy);
        options.no_proxy = "example.com, 127.0.0.0/8";
        client_session session(options);
        auto hello = co_await session.get(base_url(app) + "/hello");
        EXPECT_EQ(hello.status(), 200);
        EXPECT_TRUE(proxy.requests().empty());
        co_await session.aclose();
    });
}

TEST(http_proxy, no_proxy_rules) {
    using corio::http::detail::bypasses_proxy;
    using corio::http::detail::parse_no_proxy;
    const auto list = parse_no_proxy("Example.COM, .internal.test ,10.0.0.0/8,[::1]:8080, 192.168.1.7:80, fd00::/8");
    EXPECT_TRUE(bypasses_proxy(list, "example.com"));
    EXPECT_TRUE(bypasses_proxy(list, "api.EXAMPLE.com"));
    EXPECT_FALSE(bypasses_proxy(list, "notexample.com"));
    EXPECT_TRUE(bypasses_proxy(list, "a.b.internal.test"));
    EXPECT_TRUE(bypasses_proxy(list, "internal.test"));
    EXPECT_TRUE(bypasses_proxy(list, "10.200.3.4"));
    EXPECT_FALSE(bypasses_proxy(list, "11.0.0.1"));
    EXPECT_TRUE(bypasses_proxy(list, "::1"));
    EXPECT_TRUE(bypasses_proxy(list, "192.168.1.7"));
    EXPECT_FALSE(bypasses_proxy(list, "192.168.1.8"));
    EXPECT_TRUE(bypasses_proxy(list, "fd12::5"));
    EXPECT_FALSE(bypasses_proxy(list, "fe80::1"));
    EXPECT_TRUE(bypasses_proxy(parse_no_proxy("*"), "anything.example"));
    EXPECT_FALSE(bypasses_proxy(parse_no_proxy("10.0.0.0/40"), "10.0.0.1"));  // no such prefix: matches nothing
}

TEST(http_proxy, bad_proxy_urls_are_refused_when_the_session_is_made) {
    session_options options;
    options.proxy = "socks5://127.0.0.1:1080";
    EXPECT_THROW(client_session{options}, corio::http::url_error);
    options.proxy = "http://127.0.0.1:3128/some/path";
    EXPECT_THROW(client_session{options}, corio::http::url_error);
    options.proxy = "127.0.0.1:3128";  // no scheme: http
    EXPECT_NO_THROW(client_session{options});
}

TEST(http_proxy, the_environment_names_the_proxy_unless_trust_env_is_off) {
    server app;
    add_routes(app);
    with_proxy(app, [](server& app, forward_proxy& proxy) -> corio::task<> {
        const scoped_env http_proxy("HTTP_PROXY", proxy.url());
        client_session through_env;
        auto proxied = co_await through_env.get(base_url(app) + "/hello");
        EXPECT_EQ(proxied.status(), 200);
        EXPECT_EQ(proxy.requests().size(), 1u);
        session_options untrusting;
        untrusting.trust_env = false;
        client_session direct(untrusting);
        auto answered = co_await direct.get(base_url(app) + "/hello");
        EXPECT_EQ(answered.status(), 200);
        EXPECT_EQ(proxy.requests().size(), 1u);
        {
            const scoped_env no_proxy("NO_PROXY", "localhost,127.0.0.1");
            client_session bypassing;
            auto bypassed = co_await bypassing.get(base_url(app) + "/hello");
            EXPECT_EQ(bypassed.status(), 200);
            EXPECT_EQ(proxy.requests().size(), 1u);
            co_await bypassing.aclose();
        }
        co_await through_env.aclose();
        co_await direct.aclose();
    });
}

TEST(http_proxy, upper_case_http_proxy_is_ignored_in_a_cgi_program) {
    const session_options trusting;
    const scoped_env http_proxy("HTTP_PROXY", "http://127.0.0.1:9");
    const scoped_env cgi("REQUEST_METHOD", "GET");
    const corio::http::detail::proxy_settings cgi_settings(trusting);
    EXPECT_EQ(cgi_settings.route_for(corio::http::url::parse("http://example.com/")), nullptr);
    const scoped_env https_proxy("HTTPS_PROXY", "http://127.0.0.1:9");
    const corio::http::detail::proxy_settings with_https(trusting);
    EXPECT_NE(with_https.route_for(corio::http::url::parse("https://example.com/")), nullptr);
}

TEST(http_proxy, an_unreachable_or_silent_proxy_fails_naming_it) {
    server app;
    add_routes(app);
    with_app(app, [](server& app) -> corio::task<> {
        session_options closed;
        closed.proxy = "http://127.0.0.1:" + std::to_string(corio_test_support::free_port());
        client_session refused(closed);
        co_await corio_test::expect_throws<corio::net::connect_error>(refused.get(base_url(app) + "/hello"),
                                                                      "connect to the proxy 127.0.0.1:");
        // A proxy that accepts the connection and never answers CONNECT: the connect limit cuts it.
        auto silent = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
        session_options quiet;
        quiet.proxy = "http://" + silent.local_endpoint().to_string();
        quiet.timeout.connect = 200ms;
        client_session waiting(quiet);
        co_await corio_test::expect_throws<corio::timeout_error>(
            waiting.get("https://localhost:" + std::to_string(app.local_endpoint()->port()) + "/"),
            "connect timeout (200ms) expired while waiting for the proxy " + silent.local_endpoint().to_string() + " to open a tunnel");
        co_await refused.aclose();
        co_await waiting.aclose();
    });
}

TEST(http_proxy, websocket_goes_through_a_connect_tunnel) {
    server app;
    app.websocket("/echo", [](request&, corio::http::websocket& ws) -> corio::task<> {
        while (auto message = co_await ws.receive()) co_await ws.send_text(message->text());
    });
    with_proxy(app, [](server& app, forward_proxy& proxy) -> corio::task<> {
        client_session session(via(proxy));
        auto ws = co_await session.ws_connect("ws://" + app.local_endpoint()->to_string() + "/echo");
        co_await ws.send_text("through the tunnel");
        auto echo = co_await ws.receive();
        CO_ASSERT_TRUE(echo.has_value());
        EXPECT_EQ(echo->text(), "through the tunnel");
        co_await ws.close();
        CO_ASSERT_EQ(proxy.requests().size(), 1u);
        EXPECT_EQ(proxy.requests()[0].method, "CONNECT");
        co_await session.aclose();
    });
}

/// Debian's tinyproxy, on a free port, for one test.
class tinyproxy {
public:
    tinyproxy() : port_(corio_test_support::free_port()), dir_(std::filesystem::temp_directory_path() / ("corio-tinyproxy-" + std::to_string(port_))) {
        std::filesystem::create_directories(dir_);
        std::ofstream(dir_ / "tinyproxy.conf") << "Port " << port_ << "\nListen 127.0.0.1\nTimeout 30\nLogLevel Warning\nMaxClients 20\n";
        const int log = ::open((dir_ / "log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        pid_ = corio_test_support::start_process({corio_test_support::find_program("tinyproxy"), "-d", "-c", (dir_ / "tinyproxy.conf").string()},
                                                 -1, log);
        ::close(log);
        for (int i = 0; i < 200 && !corio_test_support::accepts_connections(port_); ++i) ::usleep(10'000);
    }
    tinyproxy(const tinyproxy&) = delete;
    ~tinyproxy() {
        corio_test_support::stop_process(pid_);
        std::filesystem::remove_all(dir_);
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    int port_;
    std::filesystem::path dir_;
    pid_t pid_;
};

TEST(http_proxy, through_tinyproxy_both_ways) {
    CORIO_REQUIRE_PROGRAM("tinyproxy", "tinyproxy");
    const tinyproxy real_proxy;
    const auto pki = corio_test::test_pki::create();
    server plain, secure;
    add_routes(plain);
    add_routes(secure);
    corio::run(corio::invoke([&]() -> corio::task<> {
        co_await plain.start(corio::net::endpoint::parse("127.0.0.1", 0));
        auto tls = corio::net::tls_context::server({.certificate_chain_file = pki.cert_file, .private_key_file = pki.key_file});
        co_await secure.start(corio::net::endpoint::parse("127.0.0.1", 0), std::move(tls));
        session_options options;
        options.proxy = real_proxy.url();
        options.ca_file = pki.ca_file;
        client_session session(options);
        auto forwarded = co_await session.get(base_url(plain) + "/hello");
        EXPECT_EQ(co_await forwarded.text(), "hello, proxy credentials unseen");
        EXPECT_TRUE(forwarded.headers().contains("Via")) << "tinyproxy adds Via to what it forwards";
        auto tunnelled = co_await session.get("https://localhost:" + std::to_string(secure.local_endpoint()->port()) + "/hello");
        EXPECT_EQ(co_await tunnelled.text(), "hello, proxy credentials unseen");
        EXPECT_FALSE(tunnelled.headers().contains("Via"));  // end to end: the proxy saw only TLS
        co_await session.aclose();
        plain.stop(1s);
        secure.stop(1s);
        co_await plain.wait_closed();
        co_await secure.wait_closed();
    }));
}
