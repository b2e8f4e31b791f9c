// HTTPS with corio's server: a certificate (here from a throwaway test CA), served over TLS with
// ALPN http/1.1, and a renewed certificate swapped in without a restart.
#include <corio/corio.hpp>

#include "tls_test_pki.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
namespace http = corio::http;
namespace net = corio::net;

void expect(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

corio::task<> serve_and_call(const corio_test::test_pki& pki, const corio_test::test_pki& renewed) {
    http::server app;
    app.get("/hello", [](http::request&) -> corio::task<http::response> { co_return http::response::text("hello\n"); });
    // [snippet https]
    auto tls = net::tls_context::server({.certificate_chain_file = pki.cert_file, .private_key_file = pki.key_file});
    const auto where = co_await app.start(net::endpoint::parse("127.0.0.1", 0), tls);
    // ... later, with a renewed certificate: new connections get it, open ones keep theirs
    app.reload_tls(net::tls_context::server({.certificate_chain_file = renewed.cert_file,
                                             .private_key_file = renewed.key_file}));
    // [end snippet]
    const std::string url = "https://localhost:" + std::to_string(where.port()) + "/hello";
    http::client_session session({.ca_file = renewed.ca_file});
    auto r = co_await session.get(url);
    expect(co_await r.text() == "hello\n", "GET over TLS with the renewed certificate");
    co_await session.aclose();
    app.stop(1s);
    co_await app.wait_closed();
}

int main() {
    const auto pki = corio_test::test_pki::create();
    const auto renewed = corio_test::test_pki::create();
    corio::run(serve_and_call(pki, renewed));
    return 0;
}
