// A bounded soak (about 20 s) of http::server: wrk drives the good routes while raw clients on
// another loop attack the same server — resets mid-head and mid-body, slowloris, silence,
// binary garbage, a TLS ClientHello, invalid escapes, oversized heads, a 10 MB Content-Length
// cut short, garbage pipelined after a valid request, responses never read. The good clients
// must see no error at all, the hostile ones must get the answers the header comment of
// server.hpp promises, every connection must be gone soon after the attack, and the process RSS
// must come back within a stated bound of what it was after a warm-up.
// Not built in sanitizer builds (tests/CMakeLists.txt): timing and RSS mean nothing there.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/http/server.hpp>

#include "nginx_process.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using corio::http::request;
using corio::http::response;
using corio::http::server;
using corio::net::endpoint;
using corio::net::tcp_stream;

namespace {

// ---- the hostile clients ----

enum shape : int {
    reset_mid_head,       // half a head, then RST
    reset_mid_body,       // a head announcing 1000 bytes, 100 of them, then RST
    reset_after_request,  // a whole request, then RST while the server answers
    slow_body,            // Content-Length: 1 MiB (the limit), 64 KiB of it, then nothing: 408 (body_timeout)
    slowloris,            // half a head, then nothing: the 1 s header_timeout answers 408
    silent,               // connects and says nothing: closed after header_timeout, no answer
    garbage,              // random binary bytes: 400 (or 408 if they happen to look like a start)
    tls_hello,            // a TLS ClientHello on the plain port: 400
    bad_escape,           // GET /hello%zz: 400
    huge_header,          // a 70 KiB header (limit 64 KiB): 431
    huge_uri,             // a 10 KiB target (limit 8 KiB): 414
    huge_content_length,  // Content-Length: 10 MB (limit 1 MiB), a few bytes, then gone: 413
    pipelined_garbage,    // a valid GET then garbage on the same connection: 200, then 400
    never_read,           // pipelined GETs whose answers are never read, closed after 1-3 s
    shape_count
};

constexpr std::array<const char*, shape_count> shape_names = {
    "reset_mid_head", "reset_mid_body", "reset_after_request", "slow_body", "slowloris", "silent",
    "garbage",        "tls_hello",      "bad_escape",          "huge_header", "huge_uri",
    "huge_content_length", "pipelined_garbage", "never_read"};

/// Per shape; written by the attackers' loop only, read after it has been joined.
struct attack_stats {
    std::array<std::uint64_t, shape_count> attempts{};    // started
    std::array<std::uint64_t, shape_count> as_expected{};  // answered as server.hpp promises (or, for
                                                           // shapes expecting nothing, carried out)
    std::array<std::uint64_t, shape_count> unexpected{};   // an answer other than the promised one
    std::array<std::uint64_t, shape_count> failed{};       // a corio::error on the client side
    std::array<std::string, shape_count> first_surprise;  // the first unexpected answer or error
};

// Every client operation is bounded. 5 s reads: the longest wait for an answer is slow_body's
// 2 s body_timeout (then 408), so a busy machine still has 3 s of margin.
constexpr corio::net::tcp_options attacker_options{
    .connect_timeout = 2s, .read_timeout = 5s, .write_timeout = 2s};

/// Reads until the server closes (each read bounded by read_timeout); keeps the first 64 KiB.
corio::task<std::string> read_until_close(tcp_stream& stream) {
    std::string out;
    std::array<char, 16 * 1024> buffer;
    while (const auto n = co_await stream.read_some(buffer))
        if (out.size() < 64 * 1024) out.append(buffer.data(), n);
    co_return out;
}

std::string random_bytes(std::minstd_rand& rng, std::size_t n) {
    std::string bytes(n, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
    return bytes;
}

bool starts_with(const std::string& text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }

/// The first line of `reply` (or its first 60 bytes), for a failure message.
std::string first_line(const std::string& reply) {
    const auto end = std::min(reply.find("\r\n"), std::size_t{60});
    return reply.empty() ? "<nothing>" : reply.substr(0, end);
}

/// One attack of shape `s`. Returns the surprise ("" if the server answered as promised).
corio::task<std::string> attack_once(shape s, endpoint target, std::uint32_t seed) {
    std::minstd_rand rng(seed);
    auto stream = co_await tcp_stream::connect(target, attacker_options);
    switch (s) {
        case reset_mid_head: {
            const std::string head = "GET /hello HTTP/1.1\r\nHost: soak\r\nUser-Ag";
            co_await stream.write_all(head);
            co_await corio::sleep(std::chrono::milliseconds(rng() % 5));
            stream.abort();
            co_return "";
        }
        case reset_mid_body: {
            const std::string head = "POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 1000\r\n\r\n" +
                                     std::string(100, 'b');
            co_await stream.write_all(head);
            co_await corio::sleep(std::chrono::milliseconds(rng() % 5));
            stream.abort();
            co_return "";
        }
        case reset_after_request: {
            const std::string requests = "GET /json HTTP/1.1\r\nHost: soak\r\n\r\nGET /hello HTTP/1.1\r\nHost: soak\r\n\r\n";
            co_await stream.write_all(requests);
            if (rng() % 2 == 0) co_await corio::sleep(std::chrono::milliseconds(rng() % 3));
            stream.abort();
            co_return "";
        }
        case slow_body: {
            const std::string start = "POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 1048576\r\n\r\n" +
                                      std::string(64 * 1024, 'b');
            co_await stream.write_all(start);
            const std::string reply = co_await read_until_close(stream);  // body_timeout: 2 s
            co_return starts_with(reply, "HTTP/1.1 408 ") ? "" : first_line(reply);
        }
        case slowloris: {
            const std::string half = "GET /hello HTTP/1.1\r\nHost: soak\r\n";
            co_await stream.write_all(half);
            const std::string reply = co_await read_until_close(stream);  // header_timeout: 1 s
            co_return starts_with(reply, "HTTP/1.1 408 ") ? "" : first_line(reply);
        }
        case silent: {
            const std::string reply = co_await read_until_close(stream);
            co_return reply.empty() ? "" : first_line(reply);
        }
        case garbage: {
            const std::string bytes = random_bytes(rng, 1 + rng() % 4096);
            co_await stream.write_all(bytes);
            const std::string reply = co_await read_until_close(stream);
            co_return starts_with(reply, "HTTP/1.1 400 ") || starts_with(reply, "HTTP/1.1 408 ") ? "" : first_line(reply);
        }
        case tls_hello: {
            // Record header (handshake, TLS 1.0 record version, length 512), handshake header
            // (ClientHello, length 508), client version TLS 1.2, then random bytes.
            const std::string hello = std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + random_bytes(rng, 300);
            co_await stream.write_all(hello);
            const std::string reply = co_await read_until_close(stream);
            co_return starts_with(reply, "HTTP/1.1 400 ") ? "" : first_line(reply);
        }
        case bad_escape: {
            const std::string bad = rng() % 2 == 0 ? "GET /hello%zz HTTP/1.1\r\nHost: soak\r\n\r\n"
                                                   : "GET /json?q=%g1 HTTP/1.1\r\nHost: soak\r\n\r\n";
            co_await stream.write_all(bad);
            const std::string reply = co_await read_until_close(stream);
            co_return starts_with(reply, "HTTP/1.1 400 ") ? "" : first_line(reply);
        }
        case huge_header: {
            const std::string head = "GET /hello HTTP/1.1\r\nHost: soak\r\nX-Big: " + std::string(70 * 1024, 'h') + "\r\n\r\n";
            co_await stream.write_all(head);
            const std::string reply = co_await read_until_close(stream);
            co_return starts_with(reply, "HTTP/1.1 431 ") ? "" : first_line(reply);
        }
        case huge_uri: {
            const std::string head = "GET /" + std::string(10 * 1024, 'u') + " HTTP/1.1\r\nHost: soak\r\n\r\n";
            co_await stream.write_all(head);
            const std::string reply = co_await read_until_close(stream);
            co_return starts_with(reply, "HTTP/1.1 414 ") ? "" : first_line(reply);
        }
        case huge_content_length: {
            const std::string head = "POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 10000000\r\n\r\nabcdef";
            co_await stream.write_all(head);
            std::array<char, 4096> buffer;  // the refusal, then gone without sending the rest
            const std::string reply(buffer.data(), co_await stream.read_some(buffer));
            co_return starts_with(reply, "HTTP/1.1 413 ") ? "" : first_line(reply);
        }
        case pipelined_garbage: {
            const std::string bytes = "GET /hello HTTP/1.1\r\nHost: soak\r\n\r\n" + random_bytes(rng, 1 + rng() % 512);
            co_await stream.write_all(bytes);
            const std::string reply = co_await read_until_close(stream);
            const auto second = reply.find("HTTP/1.1 ", 1);
            const bool ok = starts_with(reply, "HTTP/1.1 200 ") && second != std::string::npos &&
                            (reply.compare(second, 13, "HTTP/1.1 400 ") == 0 || reply.compare(second, 13, "HTTP/1.1 408 ") == 0);
            co_return ok ? "" : first_line(reply) + " / " + (second == std::string::npos ? "<no second answer>" : reply.substr(second, 12));
        }
        case never_read: {
            // Either one request (its answer waits in the socket buffers) or 5000 of /json: some
            // 5.5 MB of answers, more than loopback buffers take unread, so the server's write
            // stalls and write_timeout (2 s) cuts it if the client stays long enough.
            std::string requests;
            const int n = rng() % 2 == 0 ? 1 : 5000;
            for (int i = 0; i < n; ++i) requests += "GET /json HTTP/1.1\r\nHost: soak\r\n\r\n";
            co_await stream.write_all(requests);
            co_await corio::sleep(std::chrono::milliseconds(1000 + rng() % 2000));
            stream.close();  // unread data: the kernel resets
            co_return "";
        }
        case shape_count: break;
    }
    co_return "";
}

/// One hostile client: tries every shape in turn until `stop`, each attempt bounded.
corio::task<> attacker(int index, endpoint target, const std::atomic<bool>& stop, attack_stats& stats) {
    std::minstd_rand rng(static_cast<std::uint32_t>(index) * 7919u + 1u);
    for (int round = 0; !stop.load(std::memory_order_relaxed); ++round) {
        const auto s = static_cast<shape>((index + round) % shape_count);
        ++stats.attempts[s];
        std::string surprise;
        bool failed = false;
        try {
            surprise = co_await attack_once(s, target, static_cast<std::uint32_t>(rng()));
        } catch (const corio::error& e) {
            failed = true;
            surprise = e.what();
        }
        if (failed)
            ++stats.failed[s];
        else if (surprise.empty())
            ++stats.as_expected[s];
        else
            ++stats.unexpected[s];
        if (!surprise.empty() && stats.first_surprise[s].empty()) stats.first_surprise[s] = surprise;
        co_await corio::sleep(std::chrono::milliseconds(rng() % 20));  // ~70 attempts a second in all
    }
}

corio::task<> attack(endpoint target, int clients, const std::atomic<bool>& stop, attack_stats& stats) {
    std::vector<corio::task<>> all;
    for (int i = 0; i < clients; ++i) all.push_back(attacker(i, target, stop, stats));
    co_await corio::gather(std::move(all));
}

/// A plain GET on a fresh connection; returns what the server sent before closing.
corio::task<std::string> plain_get(endpoint target, std::string path) {
    auto stream = co_await tcp_stream::connect(target, attacker_options);
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n";
    co_await stream.write_all(request);
    co_return co_await read_until_close(stream);
}

// ---- the process ----

/// A "Vm...:" line of /proc/self/status in KiB (VmRSS: resident now, VmHWM: its peak), 0 if unknown.
long status_kib(std::string_view field) {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind(field, 0) == 0) return std::strtol(line.c_str() + field.size(), nullptr, 10);
    return 0;
}
long rss_kib() { return status_kib("VmRSS:"); }

std::string wrk_summary(const std::string& output) {
    std::string summary;
    std::size_t start = 0;
    while (start < output.size()) {
        const auto end = output.find('\n', start);
        const std::string line = output.substr(start, end - start);
        if (line.find("Latency") != std::string::npos || line.find("requests in") != std::string::npos ||
            line.find("Requests/sec") != std::string::npos || line.find("errors") != std::string::npos ||
            line.find("Non-2xx") != std::string::npos)
            summary += line + "\n";
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return summary;
}

}  // namespace

TEST(http_soak, good_clients_see_no_errors_while_hostile_clients_attack) {
    CORIO_REQUIRE_PROGRAM("wrk", "wrk");
    const std::string wrk = corio_test_support::find_program("wrk");

    // What the server logs (cut responses, failed connection tasks), counted instead of printed.
    std::mutex log_mutex;
    std::vector<std::string> logged;
    std::size_t responses_cut = 0;
    const auto previous_logger = corio::set_error_logger([&](std::string_view message) {
        std::lock_guard lock(log_mutex);
        if (message.find("its response was cut") != std::string_view::npos)
            ++responses_cut;  // never_read: write_timeout did its job
        else
            logged.emplace_back(message);
    });

    server app({.header_timeout = 1s,
                .body_timeout = 2s,
                .idle_timeout = 5s,
                .handler_timeout = 2s,
                .write_timeout = 2s,
                .max_connections = 1000,
                .limits = {.max_body_size = 1 << 20}});
    app.get("/hello", [](request&) -> corio::task<response> { co_return response::text("hello, soak\n"); });
    app.get("/json", [](request&) -> corio::task<response> {
        nlohmann::json items = nlohmann::json::array();
        for (int i = 0; i < 16; ++i)
            items.push_back({{"id", i}, {"name", "item number " + std::to_string(i)}, {"tags", {"soak", "corio"}}});
        co_return response::json({{"items", items}});  // about 1 KB
    });
    app.post("/echo", [](request& req) -> corio::task<response> { co_return response::text(req.body()); });

    const int port = corio_test_support::free_port();
    ASSERT_GT(port, 0);
    const endpoint target = endpoint::parse("127.0.0.1", static_cast<std::uint16_t>(port));
    std::string server_failure;
    std::thread serving([&] {
        try {
            app.run(target, 1);
        } catch (const std::exception& e) {
            server_failure = e.what();
        }
    });
    const auto listen_deadline = std::chrono::steady_clock::now() + 5s;
    while (!corio_test_support::accepts_connections(port) && std::chrono::steady_clock::now() < listen_deadline)
        std::this_thread::sleep_for(10ms);
    if (!corio_test_support::accepts_connections(port)) {
        app.stop(0s);
        serving.join();
        corio::set_error_logger(previous_logger);
        FAIL() << "the server did not listen on port " << port << ": " << server_failure;
    }

    // The hostile clients, on their own loop, until `stop_attack`.
    constexpr int hostile_clients = 32;
    std::atomic<bool> stop_attack{false};
    attack_stats stats;
    std::string attack_failure;
    std::thread attacking([&] {
        try {
            corio::run(attack(target, hostile_clients, stop_attack, stats), {.handle_signals = false});
        } catch (const std::exception& e) {
            attack_failure = e.what();
        }
    });

    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    auto run_wrk = [&](const std::string& path, const std::string& seconds) {
        return corio_test_support::run_program({wrk, "-t1", "-c16", "-d" + seconds, url + path}, -1);
    };

    // Warm-up (2 s, under attack): the allocator's arenas, the frame pools and the kernel's
    // socket buffers grow to their working size; RSS is measured from here on.
    const auto warm_up = run_wrk("/hello", "2s");
    const long rss_start = rss_kib();
    // The soak: 2 x 9 s of wrk, one run per good route, the attack going on throughout.
    const auto started = std::chrono::steady_clock::now();
    const auto hello = run_wrk("/hello", "9s");
    const auto json = run_wrk("/json", "9s");
    const auto soak_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const long rss_under_attack = rss_kib();
    const std::size_t open_under_attack = app.open_connections();

    stop_attack.store(true);
    const auto stop_requested = std::chrono::steady_clock::now();
    attacking.join();  // each attempt is bounded (5 s reads, never_read holds for at most 3 s)
    const auto stop_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stop_requested).count();

    // Every connection closes soon after the attackers have gone.
    const auto drain_started = std::chrono::steady_clock::now();
    while (app.open_connections() > 0 && std::chrono::steady_clock::now() - drain_started < 3s)
        std::this_thread::sleep_for(10ms);
    const auto drain_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - drain_started).count();
    const std::size_t open_after = app.open_connections();
    const long rss_end = rss_kib();
    const long rss_peak = status_kib("VmHWM:");

    // The server still serves a plain request.
    std::string after_attack;
    try {
        after_attack = corio::run(plain_get(target, "/hello"), {.handle_signals = false});
    } catch (const std::exception& e) {
        after_attack = std::string("<") + e.what() + ">";
    }

    app.stop(1s);
    serving.join();
    corio::set_error_logger(previous_logger);

    // ---- report ----
    std::printf("warm-up wrk /hello:\n%s", wrk_summary(warm_up.output).c_str());
    std::printf("wrk /hello (under attack):\n%s", wrk_summary(hello.output).c_str());
    std::printf("wrk /json (under attack):\n%s", wrk_summary(json.output).c_str());
    std::printf("soak %.1f s; %d hostile clients (%lld ms to finish their last attempts); open connections at the end "
                "of the attack %zu, %zu after it (%lld ms after the last attacker finished)\n",
                soak_seconds, hostile_clients, static_cast<long long>(stop_ms), open_under_attack, open_after,
                static_cast<long long>(drain_ms));
    std::printf("%-20s %8s %8s %8s %8s  first surprise\n", "shape", "attempts", "expected", "other", "failed");
    for (int s = 0; s < shape_count; ++s)
        std::printf("%-20s %8llu %8llu %8llu %8llu  %s\n", shape_names[s],
                    static_cast<unsigned long long>(stats.attempts[s]), static_cast<unsigned long long>(stats.as_expected[s]),
                    static_cast<unsigned long long>(stats.unexpected[s]), static_cast<unsigned long long>(stats.failed[s]),
                    stats.first_surprise[s].substr(0, 100).c_str());
    std::printf("RSS: after warm-up %ld KiB, end of attack %ld KiB, after drain %ld KiB, peak %ld KiB\n", rss_start,
                rss_under_attack, rss_end, rss_peak);
    std::printf("server: %llu requests served, %zu responses cut by write_timeout, %zu other log lines\n",
                static_cast<unsigned long long>(app.requests_served()), responses_cut, logged.size());
    std::fflush(stdout);

    // ---- checks ----
    EXPECT_EQ(server_failure, "");
    EXPECT_EQ(attack_failure, "");
    // The good clients: thousands of requests (the slowest CI machine still does well over
    // 1000/s even with the attack sharing its CPUs), not one error, not one non-2xx.
    for (const auto* run : {&hello, &json}) {
        EXPECT_TRUE(run->started);
        EXPECT_GT(corio_test_support::wrk_requests(run->output), 5000) << run->output;
        EXPECT_FALSE(corio_test_support::wrk_saw_errors(run->output)) << run->output;
    }
    // The hostile clients really ran: every shape many times over (each attacker cycles through
    // all of them; the slowest shapes take 1-3 s, so 32 clients x 20 s give each shape >= 40).
    for (int s = 0; s < shape_count; ++s) {
        EXPECT_GE(stats.attempts[s], 40u) << shape_names[s];
        // ...and the server answered each as promised: no surprise, no client-side error
        // (every client operation is bounded, so a stuck server shows up as a timeout here).
        EXPECT_EQ(stats.unexpected[s], 0u) << shape_names[s] << ": " << stats.first_surprise[s];
        EXPECT_EQ(stats.failed[s], 0u) << shape_names[s] << ": " << stats.first_surprise[s];
    }
    // Nothing logged but the cut responses of never_read (no failed connection task).
    for (const std::string& line : logged) ADD_FAILURE() << "the server logged: " << line;
    // All connections gone within 3 s of the attack's end (the longest a connection can outlive
    // its client here is a response blocked on write: write_timeout, 2 s).
    EXPECT_EQ(open_after, 0u) << "connections still open " << drain_ms << " ms after the attack";
    // Still serving.
    EXPECT_TRUE(starts_with(after_attack, "HTTP/1.1 200 ")) << after_attack;
    EXPECT_NE(after_attack.find("hello, soak"), std::string::npos) << after_attack;
    // Memory: RSS once the attack is over and its connections are closed must be at most 16 MiB
    // above RSS after the warm-up. Measured (g++ 12 RelWithDebInfo, 2 vCPUs): about 6-11 MiB
    // after the warm-up, 6-12 MiB at the peak, 6-8 MiB at the end — the end is below the start,
    // since the warm-up point has a full attack's connections and buffers in flight. 16 MiB is
    // more than the whole process uses, so allocator noise cannot reach it, yet a leak of ~35
    // bytes per request (~500k requests) or ~10 KiB per hostile connection (~1.4k) does.
    constexpr long rss_bound_kib = 16 * 1024;
    EXPECT_LE(rss_end, rss_start + rss_bound_kib)
        << "RSS grew from " << rss_start << " KiB after the warm-up to " << rss_end
        << " KiB after the soak: more than the stated bound of 16 MiB (a leak per connection or request?)";
}
