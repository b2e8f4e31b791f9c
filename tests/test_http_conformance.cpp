// http::server against the table of raw requests in tests/http_conformance.txt: every hostile or
// unusual shape the hardening audit found, the protocol decisions taken (RFC 9112/9110 and
// nginx's behaviour), and the smuggling shapes the parser rejects. One test per line of the
// table; each opens a real connection to a real server and parses the reply with corio's
// response parser.
#include <gtest/gtest.h>

#include <corio/corio.hpp>
#include <corio/http/parser.hpp>
#include <corio/http/server.hpp>

#include "raw_exchange.hpp"

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace http = corio::http;

namespace {

struct conformance_case {
    std::string name;
    std::vector<int> statuses;  // expected, in order
    bool closes = false;        // the server must close after them
    std::string request;
    std::vector<std::string> checks;  // "+text" / "-text"
};

/// How gtest shows a case (instead of its bytes).
void PrintTo(const conformance_case& c, std::ostream* out) { *out << '"' << c.name << '"'; }

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

/// The table's escapes: \r \n \t \0 \\ \xNN and %{N c}.
std::string unescape(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text.substr(i, 2) == "%{") {
            const auto close = text.find('}', i);
            std::istringstream spec(std::string(text.substr(i + 2, close - i - 2)));
            std::size_t count = 0;
            char c = 0;
            spec >> count >> c;
            out.append(count, c);
            i = close;
        } else if (text[i] != '\\' || i + 1 == text.size()) {
            out += text[i];
        } else {
            switch (const char e = text[++i]) {
                case 'r': out += '\r'; break;
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case '0': out += '\0'; break;
                case 'x': out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)); i += 2; break;
                default: out += e;
            }
        }
    }
    return out;
}

std::vector<std::string> split(const std::string& line, char separator) {
    std::vector<std::string> parts;
    std::stringstream in(line);
    for (std::string part; std::getline(in, part, separator);) parts.push_back(trim(part));
    return parts;
}

std::vector<conformance_case> load_cases() {
    std::ifstream file(CORIO_TESTS_DIR "/http_conformance.txt");
    std::vector<conformance_case> cases;
    for (std::string line; std::getline(file, line);) {
        if (trim(line).empty() || line.front() == '#') continue;
        const auto columns = split(line, '|');
        if (columns.size() < 3) throw std::runtime_error("http_conformance.txt: malformed line: " + line);
        conformance_case c{columns[0], {}, false, unescape(columns[2]), {columns.begin() + 3, columns.end()}};
        for (const std::string& word : split(columns[1], ' ')) {
            if (word == "close") c.closes = true;
            else if (!word.empty()) c.statuses.push_back(std::stoi(word));
        }
        cases.push_back(std::move(c));
    }
    return cases;
}

/// The statuses of the responses in `reply`, in order (throws parse_error if it is malformed).
std::vector<int> statuses_of(const std::string& reply) {
    http::response_parser parser;
    std::vector<int> statuses;
    std::string_view rest = reply;
    for (;;) {
        const auto r = parser.parse(rest);
        rest.remove_prefix(r.consumed);
        if (r.event == http::parse_event::headers) statuses.push_back(parser.head().status);
        if (r.event == http::parse_event::need_more) break;
    }
    parser.finish();
    return statuses;
}

void add_routes(http::server& app) {
    app.get("/hello", [](http::request&) -> corio::task<http::response> { co_return http::response::text("hello"); });
    app.post("/echo", [](http::request& req) -> corio::task<http::response> { co_return http::response::text(req.body()); });
    app.get("/stream", [](http::request&) -> corio::task<http::response> {
        co_return http::response::stream([]() -> corio::async_generator<std::string> {
            co_yield "one,";
            co_yield "two";
        }());
    });
    app.get("/h/{x}", [](http::request& req) -> corio::task<http::response> {
        co_return http::response::text(std::string(req.param("x")));
    });
}

class http_conformance : public ::testing::TestWithParam<conformance_case> {};

TEST_P(http_conformance, answers_as_the_table_says) {
    const conformance_case& c = GetParam();
    http::server app({.limits = {.max_body_size = 1 << 20}});
    add_routes(app);
    std::string reply;
    corio::run(corio::invoke([&app, &c, &reply]() -> corio::task<> {
        co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));
        std::string bytes = c.request;
        if (!c.closes) bytes += "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
        reply = co_await corio_test_support::raw_exchange(*app.local_endpoint(), std::move(bytes), 3s);
        app.stop(1s);
        co_await app.wait_closed();
    }));
    std::vector<int> expected = c.statuses;
    if (!c.closes) expected.push_back(200);
    ASSERT_EQ(reply.find("<timeout>"), std::string::npos) << "the server did not close the connection:\n" << reply;
    EXPECT_EQ(statuses_of(reply), expected) << reply;
    for (const std::string& check : c.checks) {
        const bool present = reply.find(check.substr(1)) != std::string::npos;
        EXPECT_EQ(present, check.front() == '+') << check << " in:\n" << reply;
    }
}

/// The test's name from the case's: snake_case like every test name ("HTTP/1.1 without Host":
/// http_1_1_without_host).
std::string case_name(const ::testing::TestParamInfo<conformance_case>& info) {
    std::string name;
    for (const char c : info.param.name) {
        const auto u = static_cast<unsigned char>(c);
        name += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '_';
    }
    return name;
}

INSTANTIATE_TEST_SUITE_P(table, http_conformance, ::testing::ValuesIn(load_cases()), case_name);

}  // namespace
