// TCP, TLS, Unix sockets and UDP on the loop's reactor: a client talking to a one-shot local
// server, in plain TCP, over TLS and over a Unix socket; then a StatsD-style metric over UDP. The TLS server's certificate comes from a throwaway PKI made at run time
// (tests/tls_test_pki.hpp: a CA and a certificate for localhost in a temporary directory; no key
// is committed). The regions between snippet markers are the examples the headers in
// include/corio/net/ show (scripts/readme_snippets.py keeps them identical).
#include <corio/corio.hpp>
#include <corio/net/udp.hpp>
#include <corio/net/unix.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tls_test_pki.hpp"

namespace net = corio::net;
using namespace std::chrono_literals;

void check(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

/// Accepts one connection and sends back what it reads first. The listener is taken by value:
/// the spawned task owns it, so no error path of the caller can pull it from under the accept.
corio::task<> echo_once(net::tcp_listener listener) {
    auto peer = co_await listener.accept();
    std::array<char, 64> bytes;
    const std::size_t n = co_await peer.read_some(bytes);
    co_await peer.write_all(std::string_view(bytes.data(), n));
}

corio::task<> tcp_example() {
    auto listener = net::tcp_listener::bind(net::endpoint::parse("127.0.0.1", 0));
    const std::uint16_t port = listener.local_endpoint().port();
    auto server = corio::spawn(echo_once(std::move(listener)));
    std::array<char, 64> buffer;
    // [snippet tcp]
    auto conn = co_await net::tcp_stream::connect(net::endpoint::parse("127.0.0.1", port));
    co_await conn.write_all("ping");
    std::size_t n = co_await conn.read_some(buffer);  // 0 at end of stream
    // [end snippet]
    co_await server;
    check(std::string_view(buffer.data(), n) == "ping", "tcp: the server echoed \"ping\"");
}

/// Accepts one TLS connection, reads a request head and answers it.
corio::task<> answer_once(net::tcp_listener listener, net::tls_context context) {
    auto tls = co_await net::tls_stream::accept(co_await listener.accept(), context);
    std::array<char, 256> bytes;
    co_await tls.read_some(bytes);
    co_await tls.write_all("HTTP/1.1 204 No Content\r\n\r\n");
    co_await tls.shutdown();
}

corio::task<> tls_example() {
    const auto pki = corio_test::test_pki::create();
    auto listener = net::tcp_listener::bind(net::endpoint::parse("127.0.0.1", 0));
    const std::uint16_t port = listener.local_endpoint().port();
    net::tls_context server_context =
        net::tls_context::server({.certificate_chain_file = pki.cert_file, .private_key_file = pki.key_file});
    auto server = corio::spawn(answer_once(std::move(listener), server_context));
    std::array<char, 256> buffer;
    // [snippet tls]
    auto context = net::tls_context::client({.ca_file = pki.ca_file});  // verify on; trust this CA
    auto tcp = co_await net::tcp_stream::connect("localhost", port);
    auto tls = co_await net::tls_stream::connect(std::move(tcp), context, "localhost");
    co_await tls.write_all("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    std::size_t n = co_await tls.read_some(buffer);  // 0 at end of stream
    // [end snippet]
    co_await server;
    check(std::string_view(buffer.data(), n).starts_with("HTTP/1.1 204"), "tls: the answer came over TLS");
}

/// Serves one Unix-socket connection: answers each line with its length.
corio::task<> count_bytes_once(net::unix_listener listener) {
    auto peer = co_await listener.accept();
    std::array<char, 64> bytes;
    const std::size_t n = co_await peer.read_some(bytes);
    co_await peer.write_all(std::to_string(n) + " bytes\n");
}

corio::task<> unix_example() {
    const std::string path = "@corio-example-" + std::to_string(::getpid());  // '@': abstract namespace, no file
    auto listener = net::unix_listener::bind(path);
    auto server = corio::spawn(count_bytes_once(std::move(listener)));
    std::array<char, 64> buffer;
    // [snippet unix]
    auto daemon = co_await net::unix_stream::connect(path, {.read_timeout = 5s});
    co_await daemon.write_all("status");
    std::size_t n = co_await daemon.read_some(buffer);  // 0 at end of stream
    // [end snippet]
    co_await server;
    check(std::string_view(buffer.data(), n) == "6 bytes\n", "unix: the local daemon answered");
}

corio::task<> udp_example() {
    // A StatsD-style collector on a free local port.
    auto collector = net::udp_socket::bind(net::endpoint::parse("127.0.0.1", 0), {.receive_timeout = 5s});
    const net::endpoint statsd = collector.local_endpoint();
    // [snippet udp]
    auto metrics = net::udp_socket::connect(statsd);  // no handshake: fixes the peer
    co_await metrics.send("requests:1|c");            // one datagram, whole or not at all
    std::array<char, 512> packet;
    net::received_datagram got = co_await collector.receive_from(packet);
    std::string_view metric(packet.data(), got.size);  // got.sender: who sent it
    if (got.truncated) std::printf("a metric longer than %zu bytes was cut\n", packet.size());
    // [end snippet]
    check(metric == "requests:1|c" && got.sender == metrics.local_endpoint(), "udp: the collector got the counter");
}

corio::task<> net_examples() {
    co_await tcp_example();
    co_await tls_example();
    co_await unix_example();
    co_await udp_example();
}

int main() { corio::run(net_examples()); }
