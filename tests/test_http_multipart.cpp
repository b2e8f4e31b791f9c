// Multipart and URL-encoded forms: the incremental parser fed byte by byte and against its
// limits; request::multipart() and request::form() on real sockets with curl as the sending
// client; form_data, file and generator bodies from client_session to corio's server and to
// Python's email parser (an independent reader of multipart/form-data).
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/http/multipart.hpp>
#include <corio/http/server.hpp>

#include "../src/http/multipart_parser.hpp"
#include "serve_app.hpp"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

using namespace std::chrono_literals;
using corio::http::client_session;
using corio::http::form_data;
using corio::http::form_error;
using corio::http::multipart_options;
using corio::http::multipart_part;
using corio::http::request_options;
using corio::http::server;
using corio::http::detail::multipart_parser;
using corio_test_support::base_url;
using corio_test_support::output_of;
using corio_test_support::with_app;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view browser_body =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "a holiday\r\n"
    "--XyZ  \r\n"  // transport padding after a boundary is allowed
    "Content-Disposition: form-data; name=\"photo\"; filename=\"beach.jpg\"\r\n"
    "Content-Type: image/jpeg\r\n"
    "\r\n"
    "\r\n--XyNot the boundary\r\n--X\r\n"
    "--XyZ--\r\n"
    "epilogue to ignore";

struct parsed_part {
    corio::http::headers headers;
    std::string body;
};

/// Parses `body` fed in pieces of `step` bytes.
std::vector<parsed_part> parse(std::string_view body, std::size_t step, const multipart_options& limits = {}) {
    multipart_parser parser("XyZ", limits);
    std::vector<parsed_part> parts;
    for (std::size_t at = 0;;) {
        const multipart_parser::event e = parser.next();
        if (e == multipart_parser::event::end) return parts;
        if (e == multipart_parser::event::part_begin) parts.push_back({parser.part_headers(), {}});
        if (e == multipart_parser::event::body) parts.back().body.append(parser.piece());
        if (e != multipart_parser::event::need_more) continue;
        if (at >= body.size()) {
            parser.finish();
            return parts;
        }
        parser.feed(body.substr(at, step));
        at += step;
    }
}

/// The status of the form_error parsing `body` throws, 0 if none.
int parse_error_status(std::string_view body, const multipart_options& limits = {}) {
    try {
        parse(body, 7, limits);
    } catch (const form_error& e) {
        return e.status();
    }
    return 0;
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string bytes(n, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    return bytes;
}

/// The output of a shell command, run on a worker thread.
corio::task<std::string> shell(std::string command) {
    const auto run = [command] { return output_of(command); };  // named: see design notes (g++ 12)
    co_return co_await corio::to_thread(run);
}

/// A temporary directory, removed afterwards.
class temp_dir {
public:
    temp_dir() {
        char pattern[] = "/tmp/corio-multipart-XXXXXX";
        path_ = ::mkdtemp(pattern);
    }
    ~temp_dir() { fs::remove_all(path_); }
    std::string write(const std::string& name, const std::string& content) const {
        std::ofstream(path_ / name, std::ios::binary) << content;
        return (path_ / name).string();
    }

private:
    fs::path path_;
};

/// A route answering each part as "name|filename|is_file|content type|size" lines, reading the
/// body as it streams in.
void add_echo_parts(server& app, multipart_options limits = {}) {
    corio::http::route_options streamed;
    streamed.stream_body = true;
    streamed.max_body_size = 64ull << 20;
    app.post("/parts", [limits](corio::http::request& req) -> corio::task<corio::http::response> {
        std::string answer;
        auto parts = req.multipart(limits);
        while (std::optional<multipart_part> part = co_await parts.next()) {
            std::string body = co_await part->text();
            answer += part->name() + "|" + part->filename() + "|" + (part->is_file() ? "file" : "field") + "|" +
                      part->content_type() + "|" + std::to_string(body.size()) + "|" +
                      std::to_string(std::hash<std::string>{}(body)) + "\n";
        }
        co_return corio::http::response::text(answer);
    }, streamed);
}

std::string describe(const std::string& name, const std::string& filename, const std::string& type, const std::string& body) {
    return name + "|" + filename + "|" + (filename.empty() ? "field" : "file") + "|" + type + "|" +
           std::to_string(body.size()) + "|" + std::to_string(std::hash<std::string>{}(body)) + "\n";
}

}  // namespace

// ---- the parser ----

TEST(multipart_parser, parses_a_body_the_same_whatever_its_pieces) {
    for (const std::size_t step : {std::size_t(1), std::size_t(2), std::size_t(5), std::size_t(13), browser_body.size()}) {
        const std::vector<parsed_part> parts = parse(browser_body, step);
        ASSERT_EQ(parts.size(), 2u) << "step " << step;
        EXPECT_EQ(parts[0].headers.get("Content-Disposition"), "form-data; name=\"title\"");
        EXPECT_EQ(parts[0].body, "a holiday");
        EXPECT_EQ(parts[1].headers.get("content-type"), "image/jpeg");
        EXPECT_EQ(parts[1].body, "\r\n--XyNot the boundary\r\n--X") << "step " << step;
    }
}

TEST(multipart_parser, accepts_a_part_without_headers_and_an_empty_body) {
    const auto parts = parse("--XyZ\r\n\r\n\r\n--XyZ\r\nA: b\r\n\r\nx\r\n--XyZ--", 3);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_TRUE(parts[0].headers.empty());
    EXPECT_EQ(parts[0].body, "");
    EXPECT_EQ(parts[1].body, "x");
}

TEST(multipart_parser, refuses_malformed_bodies_with_400) {
    EXPECT_EQ(parse_error_status("--XyZ\r\nA: b\r\n\r\ncut short"), 400);            // no closing boundary
    EXPECT_EQ(parse_error_status("--XyZ\r\nno colon here\r\n\r\nx\r\n--XyZ--"), 400);
    EXPECT_EQ(parse_error_status("--XyZ\r\n A: folded\r\n\r\nx\r\n--XyZ--"), 400);
    EXPECT_EQ(parse_error_status("--XyZ\r\nA: b\x01\r\n\r\nx\r\n--XyZ--"), 400);    // a control character
    EXPECT_EQ(parse_error_status("--XyZjunk\r\nA: b\r\n\r\nx\r\n--XyZ--"), 400);      // text after a boundary
    EXPECT_EQ(parse_error_status("no boundary at all"), 400);
}

TEST(multipart_parser, enforces_every_limit_with_413) {
    multipart_options limits;
    limits.max_parts = 1;
    EXPECT_EQ(parse_error_status(browser_body, limits), 413);
    limits = {};
    limits.max_part_size = 8;
    EXPECT_EQ(parse_error_status(browser_body, limits), 413);
    limits = {};
    limits.max_total_size = 20;
    EXPECT_EQ(parse_error_status(browser_body, limits), 413);
    limits = {};
    limits.max_part_head_size = 30;
    EXPECT_EQ(parse_error_status(browser_body, limits), 413);
    EXPECT_EQ(parse_error_status("--XyZ\r\nA: " + std::string(100'000, 'a'), {}), 413);  // a head that never ends
}

TEST(multipart_parser, reads_the_boundary_from_the_content_type) {
    using corio::http::detail::multipart_boundary;
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc"), "abc");
    EXPECT_EQ(multipart_boundary("Multipart/Form-Data; charset=x; boundary=\"a b:c\""), "a b:c");
    const auto status_of = [](std::string_view type) {
        try {
            multipart_boundary(type);
        } catch (const form_error& e) {
            return e.status();
        }
        return 0;
    };
    EXPECT_EQ(status_of("application/json"), 415);
    EXPECT_EQ(status_of("multipart/form-data"), 400);
    EXPECT_EQ(status_of("multipart/form-data; boundary=" + std::string(71, 'a')), 400);
    EXPECT_EQ(status_of("multipart/form-data; boundary=a\"b"), 400);
}

// ---- the server, with curl as the client ----

TEST(http_multipart, streams_the_parts_curl_uploads) {
    CORIO_REQUIRE_PROGRAM("curl", "curl");
    temp_dir dir;
    const std::string big = random_bytes(3 << 20, 1);
    const std::string path = dir.write("big.bin", big);
    server app;
    add_echo_parts(app);
    with_app(app, [&](server& a) -> corio::task<> {
        const std::string command = "curl -s -F title=holiday -F 'photo=@" + path + ";type=image/png' -F 'notes=<" + path +
                                    "' " + base_url(a) + "/parts";
        const std::string answer = co_await shell(command);
        EXPECT_EQ(answer, describe("title", "", "text/plain", "holiday") + describe("photo", "big.bin", "image/png", big) +
                              describe("notes", "", "text/plain", big));
    });
}

TEST(http_multipart, a_filename_is_one_safe_component) {
    CORIO_REQUIRE_PROGRAM("curl", "curl");
    temp_dir dir;
    const std::string path = dir.write("x.txt", "secret");
    server app;
    add_echo_parts(app);
    with_app(app, [&](server& a) -> corio::task<> {
        for (const std::string sent : {"../../etc/passwd", "..\\\\windows\\\\x.ini", "..", "/abs/name.txt"}) {
            const std::string command = "curl -s -F 'f=@" + path + ";filename=\"" + sent + "\"' " + base_url(a) + "/parts";
            const std::string answer = co_await shell(command);
            const std::string filename = answer.substr(2, answer.find('|', 2) - 2);
            EXPECT_EQ(filename.find_first_of("/\\"), std::string::npos) << sent;
            EXPECT_NE(filename, "..") << sent;
        }
    });
}

TEST(http_multipart, over_a_limit_is_413_and_the_server_keeps_serving) {
    CORIO_REQUIRE_PROGRAM("curl", "curl");
    temp_dir dir;
    const std::string path = dir.write("big.bin", random_bytes(100'000, 2));
    multipart_options limits;
    limits.max_part_size = 50'000;
    server app;
    add_echo_parts(app, limits);
    with_app(app, [&](server& a) -> corio::task<> {
        const std::string command = "curl -s -w ' %{http_code}' -F 'f=@" + path + "' " + base_url(a) + "/parts";
        const std::string answer = co_await shell(command);
        EXPECT_NE(answer.find("a multipart part is larger than 50000 bytes"), std::string::npos) << answer;
        EXPECT_TRUE(answer.ends_with(" 413")) << answer;
        client_session session;
        auto ok = co_await session.post(base_url(a) + "/parts", request_options().form(form_data().field("a", "1")));
        EXPECT_EQ(ok.status(), 200);
        co_await session.aclose();
    });
}

TEST(http_multipart, not_a_form_is_415_and_a_broken_one_400) {
    server app;
    add_echo_parts(app);
    with_app(app, [&](server& a) -> corio::task<> {
        client_session session;
        const nlohmann::json payload = {{"a", 1}};  // (g++ 12: no braced literal across a co_await)
        auto json = co_await session.post(base_url(a) + "/parts", request_options().json(payload));
        EXPECT_EQ(json.status(), 415);
        auto broken = co_await session.post(base_url(a) + "/parts",
                                            request_options().body("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ncut", "multipart/form-data; boundary=b"));
        EXPECT_EQ(broken.status(), 400);
        const std::string got11 = co_await broken.text();
        EXPECT_EQ(got11, "Bad Request: malformed multipart body: it ended before its closing boundary\n");
        co_await session.aclose();
    });
}

TEST(http_multipart, a_part_passed_by_cannot_be_read) {
    server app;
    app.post("/stale", [](corio::http::request& req) -> corio::task<corio::http::response> {
        auto parts = req.multipart();
        std::optional<multipart_part> first = co_await parts.next();
        std::optional<multipart_part> second = co_await parts.next();
        std::string outcome = "read";
        try {
            co_await first->text();
        } catch (const std::logic_error&) {
            outcome = "refused";
        }
        const std::string second_text = co_await second->text();
        co_return corio::http::response::text(outcome + " " + second_text);
    });
    with_app(app, [&](server& a) -> corio::task<> {
        client_session session;
        auto r = co_await session.post(base_url(a) + "/stale", request_options().form(form_data().field("a", "1").field("b", "2")));
        const std::string got12 = co_await r.text();
        EXPECT_EQ(got12, "refused 2");
        co_await session.aclose();
    });
}

TEST(http_multipart, form_reads_url_encoded_and_multipart_fields) {
    CORIO_REQUIRE_PROGRAM("curl", "curl");
    server app;
    app.post("/form", [](corio::http::request& req) -> corio::task<corio::http::response> {
        corio::http::query_params fields = co_await req.form();
        std::string answer;
        for (const auto& [name, value] : fields.items()) answer += name + "=" + value + ";";
        co_return corio::http::response::text(answer);
    });
    with_app(app, [&](server& a) -> corio::task<> {
        const std::string encoded = "curl -s --data 'name=J%C3%B6rg+M&tags=a&tags=b' " + base_url(a) + "/form";
        const std::string got1 = co_await shell(encoded);
        EXPECT_EQ(got1, "name=Jörg M;tags=a;tags=b;");
        const std::string multipart = "curl -s -F name=x -F 'file=@/dev/null' " + base_url(a) + "/form";
        const std::string got2 = co_await shell(multipart);
        EXPECT_EQ(got2, "name=x;file=;");
        const std::string bad = "curl -s -w ' %{http_code}' --data 'a=%zz' " + base_url(a) + "/form";
        const std::string got3 = co_await shell(bad);
        EXPECT_EQ(got3,
                  "Bad Request: the URL-encoded form has an invalid percent-encoding\n 400");
    });
}

// ---- the client ----

TEST(http_multipart, form_data_from_memory_and_disk_reaches_the_server) {
    temp_dir dir;
    const std::string big = random_bytes(2 << 20, 3);
    const std::string path = dir.write("report.pdf", big);
    server app;
    add_echo_parts(app);
    with_app(app, [&](server& a) -> corio::task<> {
        client_session session;
        form_data form;
        form.field("title", "a \"quoted\" title").file("report", path, "application/pdf").file_content("note", "n.txt", "hi", "text/plain");
        auto r = co_await session.post(base_url(a) + "/parts", request_options().form(std::move(form)));
        const std::string got13 = co_await r.text();
        EXPECT_EQ(got13, describe("title", "", "text/plain", "a \"quoted\" title") +
                                        describe("report", "report.pdf", "application/pdf", big) +
                                        describe("note", "n.txt", "text/plain", "hi"));
        co_await session.aclose();
    });
}

TEST(http_multipart, form_data_is_read_the_same_by_python) {
    CORIO_REQUIRE_PROGRAM("python3", "python3");
    // Python's email package parses the body on its own: names, filenames, types and contents.
    const std::string script = R"PY(
import http.server, hashlib, email.parser, email.policy, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b'Content-Type: ' + self.headers['Content-Type'].encode() + b'\r\n\r\n' + body)
        out = ''
        for part in msg.iter_parts():
            data = part.get_payload(decode=True)
            out += '%s|%s|%s|%d|%s\n' % (part.get_param('name', header='content-disposition'),
                                        part.get_filename(), part.get_content_type(), len(data),
                                        hashlib.sha256(data).hexdigest())
        self.send_response(200); self.send_header('Content-Length', str(len(out))); self.end_headers()
        self.wfile.write(out.encode())
    def log_message(self, *a): pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.handle_request()
)PY";
    temp_dir dir;
    const std::string script_path = dir.write("server.py", script);
    const std::string content = random_bytes(300'000, 4);
    const std::string path = dir.write("data.bin", content);
    FILE* python = ::popen(("python3 " + script_path).c_str(), "r");
    ASSERT_NE(python, nullptr);
    char port[16] = {};
    ASSERT_NE(std::fgets(port, sizeof port, python), nullptr);
    const std::string sha = output_of("sha256sum " + path).substr(0, 64);
    std::string answer;
    corio::run(corio::invoke([&]() -> corio::task<> {
        client_session session;
        form_data form;
        form.field("greeting", "grüße").file("upload", path, "application/x-thing");
        auto r = co_await session.post("http://127.0.0.1:" + std::string(port, std::strlen(port) - 1) + "/",
                                       request_options().form(std::move(form)));
        answer = co_await r.text();
        co_await session.aclose();
    }));
    ::pclose(python);
    const std::string greeting_sha = output_of("printf 'grüße' | sha256sum").substr(0, 64);
    EXPECT_EQ(answer, "greeting|None|text/plain|" + std::to_string(std::string("grüße").size()) + "|" + greeting_sha + "\n" +
                          "upload|data.bin|application/x-thing|300000|" + sha + "\n");
}

TEST(http_multipart, form_data_refuses_header_injection) {
    EXPECT_THROW(form_data().field("a\r\nX-Evil: 1", "v"), std::invalid_argument);
    EXPECT_THROW(form_data().file_content("f", "x\n.txt", "v"), std::invalid_argument);
    EXPECT_THROW(form_data().file_content("f", "x.txt", "v", "text/plain\r\nX: y"), std::invalid_argument);
    EXPECT_THROW(form_data().file("f", "/tmp/dir/"), std::invalid_argument);
}

namespace {

/// Answers "<framing> <size> <hash>" for the body it receives.
void add_echo_body(server& app) {
    app.post("/body", [](corio::http::request& req) -> corio::task<corio::http::response> {
        const std::string framing = req.headers().contains("Content-Length") ? "length" : "chunked";
        co_return corio::http::response::text(framing + " " + std::to_string(req.body().size()) + " " +
                                              std::to_string(std::hash<std::string>{}(req.body())));
    });
}

std::string echoed(const std::string& framing, const std::string& body) {
    return framing + " " + std::to_string(body.size()) + " " + std::to_string(std::hash<std::string>{}(body));
}

corio::async_generator<std::string> pieces_of(std::string whole, std::size_t size) {
    for (std::size_t at = 0; at < whole.size(); at += size) {
        co_await corio::sleep(0ms);
        co_yield whole.substr(at, size);
    }
}

}  // namespace

TEST(http_multipart, a_file_body_is_sent_with_its_length) {
    temp_dir dir;
    const std::string content = random_bytes(1 << 20, 5);
    const std::string path = dir.write("upload.bin", content);
    server app;
    add_echo_body(app);
    with_app(app, [&](server& a) -> corio::task<> {
        client_session session;
        auto r = co_await session.post(base_url(a) + "/body", request_options().file(path));
        const std::string got14 = co_await r.text();
        EXPECT_EQ(got14, echoed("length", content));
        co_await corio_test::expect_throws<std::system_error>(
            session.post(base_url(a) + "/body", request_options().file(path + ".missing")), "upload.bin.missing");
        co_await session.aclose();
    });
}

TEST(http_multipart, a_generator_body_is_sent_chunked) {
    const std::string content = random_bytes(200'000, 6);
    server app;
    add_echo_body(app);
    with_app(app, [&](server& a) -> corio::task<> {
        client_session session;
        // The client frames the body: a Transfer-Encoding the caller sets is not sent.
        auto r = co_await session.post(base_url(a) + "/body", request_options()
                                                                  .body(pieces_of(content, 7000), "application/octet-stream")
                                                                  .header("Transfer-Encoding", "gzip, chunked"));
        const std::string got15 = co_await r.text();
        EXPECT_EQ(got15, echoed("chunked", content));
        co_await session.aclose();
    });
}

TEST(http_multipart, a_307_resends_a_file_but_not_a_stream) {
    temp_dir dir;
    const std::string path = dir.write("f.txt", "file body");
    server app;
    add_echo_body(app);
    app.post("/moved", [](corio::http::request&) -> corio::task<corio::http::response> {
        corio::http::response r(307);
        r.headers().add("Location", "/body");
        co_return r;
    });
    with_app(app, [&](server& a) -> corio::task<> {
        client_session session;
        auto r = co_await session.post(base_url(a) + "/moved", request_options().file(path));
        const std::string got16 = co_await r.text();
        EXPECT_EQ(got16, echoed("length", "file body"));
        co_await corio_test::expect_throws<corio::http::stream_consumed_error>(
            session.post(base_url(a) + "/moved", request_options().body(pieces_of("stream body", 4))),
            "needs the request body again");
        co_await session.aclose();
    });
}
