// http::server over TLS: corio's client, curl and Python's ssl module against a throwaway CA;
// ALPN, the handshake bounded by header_timeout, plain HTTP on the TLS port, a certificate
// reloaded without a restart, static files and pipelining through TLS.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "tls_test_pki.hpp"

#include <corio/corio.hpp>
#include <corio/http/server.hpp>

#include "raw_exchange.hpp"
#include "serve_app.hpp"

#include <algorithm>
#include <array>
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
using corio::net::tls_context;
using corio_test_support::output_of;

namespace {

tls_context server_context(const corio_test::test_pki& pki) {
    return tls_context::server({.certificate_chain_file = pki.cert_file, .private_key_file = pki.key_file});
}

std::string https_url(const server& app, std::string_view path) {
    return "https://localhost:" + std::to_string(app.local_endpoint()->port()) + std::string(path);
}

void add_routes(server& app) {
    app.get("/hello", [](request&) -> corio::task<response> { co_return response::text("hello over TLS\n"); });
    app.post("/echo", [](request& req) -> corio::task<response> { co_return response::text(req.body()); });
}

/// Serves `app` with HTTPS on 127.0.0.1 while `body(app)` runs.
template <class Body>
void with_https_app(server& app, tls_context tls, Body body) {
    corio::run(corio::invoke(
        [&app](tls_context tls, Body body) -> corio::task<> {
            co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0), std::move(tls));
            co_await body(app);
            app.stop(1s);
            co_await app.wait_closed();
        },
        std::move(tls), std::move(body)));
}

}  // namespace

TEST(http_https, corio_client_requests_and_keeps_the_connection_alive) {
    const auto pki = corio_test::test_pki::create();
    server app;
    add_routes(app);
    with_https_app(app, server_context(pki), [&pki](server& app) -> corio::task<> {
        client_session session({.ca_file = pki.ca_file});
        auto hello = co_await session.get(https_url(app, "/hello"));
        EXPECT_EQ(co_await hello.text(), "hello over TLS\n");
        const std::string big(300'000, 'x');  // many TLS records each way
        auto echo = co_await session.post(https_url(app, "/echo"), corio::http::request_options().body(big));
        EXPECT_TRUE(co_await echo.text() == big);
        EXPECT_EQ(app.open_connections(), 1u);  // both on one kept-alive connection
        co_await session.aclose();
    });
}

TEST(http_https, curl_negotiates_http_1_1_with_alpn) {
    CORIO_REQUIRE_PROGRAM("curl", "curl");
    const auto pki = corio_test::test_pki::create();
    server app;
    add_routes(app);
    with_https_app(app, server_context(pki), [&pki](server& app) -> corio::task<> {
        const std::string command = "curl -sv --cacert " + pki.ca_file + " " + https_url(app, "/hello") + " 2>&1";
        auto run_curl = [command] { return output_of(command); };
        const std::string out = co_await corio::to_thread(run_curl);
        EXPECT_NE(out.find("hello over TLS"), std::string::npos) << out;
        EXPECT_NE(out.find("ALPN: server accepted http/1.1"), std::string::npos) << out;
    });
}

TEST(http_https, pythons_ssl_client_is_served) {
    CORIO_REQUIRE_PROGRAM("python3", "python3");
    const auto pki = corio_test::test_pki::create();
    server app;
    add_routes(app);
    with_https_app(app, server_context(pki), [&pki](server& app) -> corio::task<> {
        const std::string script =
            "import socket, ssl, sys\n"
            "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
            "ctx.set_alpn_protocols(['http/1.1'])\n"
            "with socket.create_connection(('127.0.0.1', int(sys.argv[2])), timeout=5) as raw:\n"
            "    with ctx.wrap_socket(raw, server_hostname='localhost') as s:\n"
            "        s.sendall(b'GET /hello HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n')\n"
            "        data = b''\n"
            "        while chunk := s.recv(4096): data += chunk\n"
            "        print(s.selected_alpn_protocol(), s.version())\n"
            "        print(data.decode())\n";
        const std::string path = pki.dir + "/client.py";
        std::ofstream(path) << script;
        const std::string command = "python3 " + path + " " + pki.ca_file + " " + std::to_string(app.local_endpoint()->port()) + " 2>&1";
        auto run_python = [command] { return output_of(command); };
        const std::string out = co_await corio::to_thread(run_python);
        EXPECT_TRUE(out.starts_with("http/1.1 TLSv1.3")) << out;
        EXPECT_NE(out.find("HTTP/1.1 200 OK"), std::string::npos) << out;
        EXPECT_NE(out.find("hello over TLS"), std::string::npos) << out;
    });
}

TEST(http_https, a_silent_or_plain_text_client_is_closed_and_the_server_goes_on) {
    const auto pki = corio_test::test_pki::create();
    server app({.header_timeout = 300ms});
    add_routes(app);
    std::vector<std::string> logged;
    const auto previous = corio::set_error_logger([&](std::string_view m) { logged.emplace_back(m); });
    with_https_app(app, server_context(pki), [&pki](server& app) -> corio::task<> {
        {
            auto silent = co_await corio::net::tcp_stream::connect(*app.local_endpoint(), {.read_timeout = 5s});
            std::array<char, 64> buffer;
            const auto started = std::chrono::steady_clock::now();
            const std::size_t n = co_await silent.read_some(buffer);  // closed: the handshake never came
            EXPECT_EQ(n, 0u);
            EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
        }
        const std::string plain = co_await corio_test_support::raw_exchange(
            *app.local_endpoint(), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ(plain.find("hello over TLS"), std::string::npos);
        client_session session({.ca_file = pki.ca_file});
        auto r = co_await session.get(https_url(app, "/hello"));
        EXPECT_EQ(co_await r.text(), "hello over TLS\n");
        co_await session.aclose();
    });
    corio::set_error_logger(previous);
    EXPECT_TRUE(logged.empty()) << logged.front();
}

TEST(http_https, a_reloaded_certificate_serves_new_connections) {
    const auto first = corio_test::test_pki::create();
    const auto second = corio_test::test_pki::create();  // another CA altogether
    server app;
    add_routes(app);
    with_https_app(app, server_context(first), [&](server& app) -> corio::task<> {
        client_session trusts_first({.ca_file = first.ca_file});
        client_session trusts_second({.ca_file = second.ca_file});
        auto before = co_await trusts_first.get(https_url(app, "/hello"));
        EXPECT_EQ(before.status(), 200);
        co_await corio_test::expect_throws<corio::net::tls_error>(trusts_second.get(https_url(app, "/hello")), "certificate verify failed");
        app.reload_tls(server_context(second));
        auto after = co_await trusts_second.get(https_url(app, "/hello"));
        EXPECT_EQ(after.status(), 200);
        co_await trusts_first.aclose();
        co_await trusts_second.aclose();
    });
}

TEST(http_https, static_files_and_pipelined_requests_go_through_tls) {
    CORIO_REQUIRE_PROGRAM("curl", "curl");
    const auto pki = corio_test::test_pki::create();
    const std::string site = pki.dir + "/site";
    std::filesystem::create_directories(site);
    const std::string content(200'000, 'z');
    std::ofstream(site + "/big.txt") << content;
    server app;
    add_routes(app);
    app.static_files("/files", site);
    with_https_app(app, server_context(pki), [&](server& app) -> corio::task<> {
        client_session session({.ca_file = pki.ca_file});
        auto file = co_await session.get(https_url(app, "/files/big.txt"));
        EXPECT_TRUE(co_await file.text() == content);
        auto part = co_await session.get(https_url(app, "/files/big.txt"), corio::http::request_options().header("Range", "bytes=10-19"));
        EXPECT_EQ(co_await part.text(), "zzzzzzzzzz");
        co_await session.aclose();
        const std::string command = "curl -s --cacert " + pki.ca_file + " " + https_url(app, "/hello") + " " +
                                    https_url(app, "/files/big.txt") + " " + https_url(app, "/hello");
        auto run_curl = [command] { return output_of(command); };
        const std::string out = co_await corio::to_thread(run_curl);
        EXPECT_EQ(out.size(), 2 * std::string("hello over TLS\n").size() + content.size());
    });
}

TEST(http_https, the_client_resumes_tls_sessions_on_new_connections) {
    const auto pki = corio_test::test_pki::create();
    int resumed = 0;
    corio::run(corio::invoke([&pki, &resumed]() -> corio::task<> {
        auto listener = corio::net::tcp_listener::bind(corio::net::endpoint::parse("127.0.0.1", 0));
        const tls_context tls = server_context(pki);
        auto server = corio::spawn([&listener, &tls, &resumed]() -> corio::task<> {
            for (int i = 0; i < 5; ++i) {  // one request per connection, each closed after its answer
                auto tcp = co_await listener.accept();
                auto peer = co_await corio::net::tls_stream::accept(std::move(tcp), tls);
                resumed += peer.session_reused() ? 1 : 0;
                std::array<char, 4096> buffer;
                co_await peer.read_some(buffer);
                co_await peer.write_all("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                co_await peer.shutdown();
            }
        });
        client_session session({.ca_file = pki.ca_file});
        const std::string url = "https://localhost:" + std::to_string(listener.local_endpoint().port()) + "/";
        for (int i = 0; i < 5; ++i) {
            auto r = co_await session.get(url);
            const std::string body = co_await r.text();
            EXPECT_EQ(body, "ok");
        }
        co_await server;
    }));
    EXPECT_EQ(resumed, 4);  // curl resumes 4 of 5 too
}

TEST(http_https, client_certificates_a_ca_directory_and_an_own_context_reach_the_handshake) {
    CORIO_REQUIRE_PROGRAM("openssl", "openssl");
    const auto pki = corio_test::test_pki::create();
    const auto client_files = pki.issue("client", {.common_name = "client", .subject_alt_names = "DNS:client.example",
                                                   .extended_key_usage = "clientAuth"});
    const std::string ca_dir = pki.dir + "/ca-dir";
    std::filesystem::create_directories(ca_dir);
    std::filesystem::copy_file(pki.ca_file, ca_dir + "/ca.pem");
    ASSERT_EQ(std::system(("openssl rehash " + ca_dir).c_str()), 0);
    server app;
    add_routes(app);
    const tls_context requiring = tls_context::server(
        {.certificate_chain_file = pki.cert_file, .private_key_file = pki.key_file, .client_ca_file = pki.ca_file});
    with_https_app(app, requiring, [&pki, &client_files, &ca_dir](server& a) -> corio::task<> {
        client_session with_certificate(
            {.ca_dir = ca_dir, .client_cert_file = client_files.cert_file, .client_key_file = client_files.key_file});
        auto r = co_await with_certificate.get(https_url(a, "/hello"));
        EXPECT_EQ(r.status(), 200);
        co_await r.text();
        client_session own({.tls = tls_context::client({.ca_file = pki.ca_file, .certificate_chain_file = client_files.cert_file,
                                                        .private_key_file = client_files.key_file})});
        auto mine = co_await own.get(https_url(a, "/hello"));
        EXPECT_EQ(mine.status(), 200);
        co_await mine.text();
        client_session without({.ca_file = pki.ca_file});
        co_await corio_test::expect_throws<corio::connection_error>(without.get(https_url(a, "/hello")), "certificate");
    });
}

TEST(http_https, turning_verification_off_is_logged_once) {
    const auto pki = corio_test::test_pki::create();
    std::vector<std::string> logged;
    const auto previous = corio::set_error_logger([&logged](std::string_view line) { logged.emplace_back(line); });
    server app;
    add_routes(app);
    with_https_app(app, server_context(pki), [](server& a) -> corio::task<> {
        for (int i = 0; i < 2; ++i) {
            client_session careless({.verify_tls = false});
            auto r = co_await careless.get(https_url(a, "/hello"));
            co_await r.text();
        }
    });
    corio::set_error_logger(previous);
    const auto warnings = std::count_if(logged.begin(), logged.end(),
                                        [](const std::string& line) { return line.find("verification is OFF") != std::string::npos; });
    EXPECT_EQ(warnings, 1);
}
