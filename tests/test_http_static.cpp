// server::static_files on a real directory: types, validators (304), ranges (206/416), index and
// redirects for directories, and every way out of the root refused (.., %2e%2e, %2f, symlinks,
// NUL) — against corio's client, raw bytes and curl.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/file.hpp>
#include <corio/http/server.hpp>

#include "raw_exchange.hpp"
#include "serve_app.hpp"

#include <array>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <unistd.h>

using namespace std::chrono_literals;
using corio::http::client_session;
using corio::http::request_options;
using corio::http::server;
using corio_test_support::base_url;
using corio_test_support::output_of;
using corio_test_support::with_app;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
}

/// A served tree and a secret beside it, removed afterwards:
///   root/index.html  root/style.css  root/docs/guide.txt  root/.env  root/big.bin (1 MiB)
///   root/inside -> style.css   root/escape -> ../secret.txt   root/escape_dir -> ..
///   secret.txt (outside the root)
class http_static : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/corio-static-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        base_ = pattern;
        root_ = base_ / "root";
        fs::create_directories(root_ / "docs");
        fs::create_directories(root_ / "my docs");
        write_file(root_ / "index.html", "<h1>home</h1>\n");
        write_file(root_ / "style.css", "body { color: red; }\n");
        write_file(root_ / "docs" / "guide.txt", "read me\n");
        write_file(root_ / ".env", "PASSWORD=x\n");
        write_file(base_ / "secret.txt", "outside the root\n");
        std::mt19937 rng(7);
        big_.resize(1 << 20);
        for (char& c : big_) c = static_cast<char>(rng());
        write_file(root_ / "big.bin", big_);
        fs::create_symlink("style.css", root_ / "inside");
        fs::create_symlink("../secret.txt", root_ / "escape");
        fs::create_symlink("..", root_ / "escape_dir");
    }
    void TearDown() override { fs::remove_all(base_); }

    fs::path base_, root_;
    std::string big_;
};

/// GET `path` with `options`; the status, a header and the body.
struct answer {
    int status;
    std::string header;
    std::string body;
};

corio::task<answer> fetch(client_session& session, const server& app, std::string path, std::string header = {},
                          request_options options = {}) {
    auto r = co_await session.get(base_url(app) + path, std::move(options));
    std::string body = co_await r.text();
    co_return answer{r.status(), std::string(r.headers().get(header).value_or("")), std::move(body)};
}

}  // namespace

TEST_F(http_static, serves_files_with_their_types_and_validators) {
    server app;
    app.static_files("/assets", root_.string());
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        auto css = co_await session.get(base_url(app) + "/assets/style.css");
        EXPECT_EQ(css.status(), 200);
        EXPECT_EQ(css.headers().get("Content-Type").value_or(""), "text/css; charset=utf-8");
        EXPECT_EQ(css.headers().get("Accept-Ranges").value_or(""), "bytes");
        const std::string etag(css.headers().get("ETag").value_or(""));
        const std::string modified(css.headers().get("Last-Modified").value_or(""));
        EXPECT_EQ(co_await css.text(), "body { color: red; }\n");
        EXPECT_FALSE(etag.empty());
        EXPECT_TRUE(modified.ends_with(" GMT")) << modified;

        auto same = co_await fetch(session, app, "/assets/style.css", "ETag", request_options().header("If-None-Match", etag));
        EXPECT_EQ(same.status, 304);
        EXPECT_EQ(same.header, etag);
        EXPECT_EQ(same.body, "");
        auto since = co_await fetch(session, app, "/assets/style.css", "", request_options().header("If-Modified-Since", modified));
        EXPECT_EQ(since.status, 304);
        auto other = co_await fetch(session, app, "/assets/style.css", "", request_options().header("If-None-Match", "\"nope\""));
        EXPECT_EQ(other.status, 200);

        auto head = co_await session.head(base_url(app) + "/assets/style.css");
        EXPECT_EQ(head.headers().get("Content-Length").value_or(""), "21");
        EXPECT_EQ(co_await head.text(), "");
        co_await session.aclose();
    });
}

TEST_F(http_static, ranges_are_answered_206_or_416) {
    server app;
    app.static_files("/", root_.string());
    with_app(app, [this](server& app) -> corio::task<> {
        client_session session;
        auto first = co_await fetch(session, app, "/big.bin", "Content-Range", request_options().header("Range", "bytes=0-9"));
        EXPECT_EQ(first.status, 206);
        EXPECT_EQ(first.header, "bytes 0-9/1048576");
        EXPECT_EQ(first.body, big_.substr(0, 10));
        auto tail = co_await fetch(session, app, "/big.bin", "Content-Range", request_options().header("Range", "bytes=-5"));
        EXPECT_EQ(tail.status, 206);
        EXPECT_EQ(tail.body, big_.substr(big_.size() - 5));
        auto open_ended = co_await fetch(session, app, "/big.bin", "", request_options().header("Range", "bytes=1048570-"));
        EXPECT_EQ(open_ended.body, big_.substr(1048570));
        auto beyond = co_await fetch(session, app, "/big.bin", "Content-Range", request_options().header("Range", "bytes=2000000-"));
        EXPECT_EQ(beyond.status, 416);
        EXPECT_EQ(beyond.header, "bytes */1048576");
        auto stale = co_await fetch(session, app, "/big.bin", "", request_options().header("Range", "bytes=0-9").header("If-Range", "\"old\""));
        EXPECT_EQ(stale.status, 200);  // the client's copy changed: the whole file
        EXPECT_EQ(stale.body.size(), big_.size());
        auto several = co_await fetch(session, app, "/big.bin", "", request_options().header("Range", "bytes=0-1,5-6"));
        EXPECT_EQ(several.status, 200);  // multipart ranges are not offered: the whole file
        co_await session.aclose();
    });
}

TEST_F(http_static, directories_get_their_index_or_a_redirect_and_never_a_listing) {
    server app;
    app.static_files("/site", root_.string());
    with_app(app, [](server& app) -> corio::task<> {
        client_session session({.follow_redirects = false});
        auto index = co_await fetch(session, app, "/site/", "Content-Type");
        EXPECT_EQ(index.body, "<h1>home</h1>\n");
        EXPECT_EQ(index.header, "text/html; charset=utf-8");
        auto bare = co_await fetch(session, app, "/site", "Location");
        EXPECT_EQ(bare.status, 301);
        EXPECT_EQ(bare.header, "/site/");
        auto docs = co_await fetch(session, app, "/site/docs", "Location");
        EXPECT_EQ(docs.status, 301);
        EXPECT_EQ(docs.header, "/site/docs/");
        auto spaced = co_await fetch(session, app, "/site/my%20docs", "Location");
        EXPECT_EQ(spaced.status, 301);
        EXPECT_EQ(spaced.header, "/site/my%20docs/");  // still escaped: a valid URI reference
        auto no_index = co_await fetch(session, app, "/site/docs/");
        EXPECT_EQ(no_index.status, 404);
        auto guide = co_await fetch(session, app, "/site/docs/guide.txt");
        EXPECT_EQ(guide.body, "read me\n");
        auto missing = co_await fetch(session, app, "/site/nope.txt");
        EXPECT_EQ(missing.status, 404);
        co_await session.aclose();
    });
}

TEST_F(http_static, nothing_outside_the_root_or_hidden_is_served) {
    server app;
    app.static_files("/assets", root_.string());
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        auto inside = co_await fetch(session, app, "/assets/inside");
        EXPECT_EQ(inside.body, "body { color: red; }\n");  // a symlink within the root is fine
        for (const char* path : {"/assets/escape", "/assets/escape_dir/secret.txt", "/assets/%2e%2e/secret.txt",
                                 "/assets/..%2fsecret.txt", "/assets/%2E%2E%2Fsecret.txt", "/assets/.env",
                                 "/assets/docs/..%2f..%2fsecret.txt", "/assets//style.css"}) {
            auto refused = co_await fetch(session, app, path);
            EXPECT_EQ(refused.status, 404) << path;
            EXPECT_EQ(refused.body.find("outside"), std::string::npos) << path;
        }
        // As sent on the wire, without a client normalising anything.
        for (const char* target : {"/assets/../secret.txt", "/assets/docs/../../secret.txt", "/assets/style.css%00.txt"}) {
            const std::string reply = co_await corio_test_support::raw_exchange(
                *app.local_endpoint(), std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            EXPECT_TRUE(reply.starts_with("HTTP/1.1 404") || reply.starts_with("HTTP/1.1 400")) << target << ": " << reply.substr(0, 40);
            EXPECT_EQ(reply.find("outside the root"), std::string::npos) << target;
        }
        co_await session.aclose();
    });
}

TEST_F(http_static, curl_downloads_whole_files_and_ranges) {
    CORIO_REQUIRE_PROGRAM("curl", "curl");
    server app;
    app.static_files("/files", root_.string());
    with_app(app, [this](server& app) -> corio::task<> {
        const std::string out = (base_ / "download.bin").string();
        const std::string whole = "curl -s -o " + out + " -w '%{http_code}' " + base_url(app) + "/files/big.bin";
        auto run_whole = [whole] { return output_of(whole); };
        EXPECT_EQ(co_await corio::to_thread(run_whole), "200");
        std::ifstream file(out, std::ios::binary);
        const std::string got((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
        EXPECT_TRUE(got == big_) << "the download differs (" << got.size() << " bytes)";
        const std::string range = "curl -s -r 100-199 " + base_url(app) + "/files/big.bin";
        auto run_range = [range] { return output_of(range); };
        EXPECT_TRUE(co_await corio::to_thread(run_range) == big_.substr(100, 100));
    });
}

namespace {
/// A /proc/self/status field in kB (VmRSS, VmHWM).
std::size_t status_kb(const std::string& field) {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with(field + ":")) return std::stoul(line.substr(field.size() + 1));
    return 0;
}
}  // namespace

TEST_F(http_static, response_from_file_streams_twenty_megabytes_in_bounded_memory) {
    // The file is written and checked a block at a time: no 20 MB buffer anywhere in the test.
    std::mt19937 rng(11);
    std::string block(1 << 20, '\0');
    for (char& c : block) c = static_cast<char>(rng());
    const fs::path path = base_ / "twenty.bin";
    {
        std::ofstream out(path, std::ios::binary);
        for (int i = 0; i < 20; ++i) out << block;
    }
    static constexpr std::size_t total = std::size_t{20} << 20;
    server app;
    app.get("/twenty", [path](corio::http::request&) -> corio::task<corio::http::response> {
        corio::file f = co_await corio::file::open(path.string());
        co_return co_await corio::http::response::from_file(std::move(f));
    });
    std::ofstream("/proc/self/clear_refs") << "5";  // the peak RSS starts again from here
    const std::size_t rss_before_kb = status_kb("VmRSS");
    with_app(app, [&block](server& app) -> corio::task<> {
        client_session session;
        auto r = co_await session.get(base_url(app) + "/twenty");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(r.headers().get("Content-Length").value_or(""), std::to_string(total));
        EXPECT_EQ(r.headers().get("Content-Type").value_or(""), "application/octet-stream");
        std::size_t received = 0, mismatches = 0;
        auto chunks = r.chunks();
        while (auto piece = co_await chunks.next()) {
            for (std::size_t i = 0; i < piece->size(); ++i)
                mismatches += (*piece)[i] != block[(received + i) % block.size()];
            received += piece->size();
        }
        EXPECT_EQ(received, total);
        EXPECT_EQ(mismatches, 0u);
        co_await session.aclose();
    });
    const std::size_t peak_growth_kb = status_kb("VmHWM") - rss_before_kb;
    EXPECT_LT(peak_growth_kb, 12u << 10) << "the peak RSS grew by " << peak_growth_kb << " kB serving 20 MB";
}

TEST_F(http_static, response_from_file_sends_from_the_files_position) {
    server app;
    const std::string path = (root_ / "style.css").string();
    app.get("/tail", [path](corio::http::request&) -> corio::task<corio::http::response> {
        corio::file f = co_await corio::file::open(path);
        std::array<char, 5> skipped{};
        co_await f.read_some(skipped);
        co_return co_await corio::http::response::from_file(std::move(f), "text/css", 203);
    });
    with_app(app, [](server& app) -> corio::task<> {
        client_session session;
        auto tail = co_await fetch(session, app, "/tail", "Content-Type");
        EXPECT_EQ(tail.status, 203);
        EXPECT_EQ(tail.header, "text/css");
        EXPECT_EQ(tail.body, "{ color: red; }\n");
        auto head = co_await session.head(base_url(app) + "/tail");
        EXPECT_EQ(head.headers().get("Content-Length").value_or(""), "16");
        co_await session.aclose();
    });
}

TEST_F(http_static, response_from_file_refuses_a_file_not_open_for_reading) {
    corio::run([this]() -> corio::task<> {
        const std::string path = (root_ / "style.css").string();
        corio::file f = co_await corio::file::open(path, corio::file_mode::append);
        co_await corio_test::expect_throws<corio::file_error>(corio::http::response::from_file(std::move(f)),
                                                  "response::from_file (not open for reading) \"" + path + "\"");
    }());
}

TEST(http_static_setup, a_missing_directory_is_refused_when_the_route_is_added) {
    server app;
    EXPECT_THROW(app.static_files("/x", "/nonexistent/corio-static"), std::system_error);
}
