#include "simulated_service.hpp"

#include <string_view>

using namespace std::chrono_literals;

namespace tour {
namespace {

// What the simulated service does for one request.
corio::task<std::string> serve(const std::string& path) {
    if (path == "/users") {
        co_await corio::sleep(40ms);
        co_return R"({"users": ["ada", "grace", "linus"]})";
    }
    if (path == "/orders") {
        co_await corio::sleep(60ms);
        co_return R"({"orders": 12})";
    }
    if (path == "/slow") {
        co_await corio::sleep(5s);
        co_return R"({"eventually": true})";
    }
    if (path == "/broken") {
        co_await corio::sleep(30ms);
        throw corio::connection_error("connection reset by peer");
    }
    if (path == "/error") {
        co_await corio::sleep(20ms);
        throw corio::connection_error("server answered 500 Internal Server Error");
    }
    if (path == "/invalid-json") {
        co_await corio::sleep(25ms);
        co_return "<html>oops</html>";
    }
    co_await corio::sleep(10ms);
    throw corio::connection_error("server answered 404 Not Found");
}

bool looks_like_json(std::string_view body) { return !body.empty() && (body.front() == '{' || body.front() == '['); }

}  // namespace

corio::task<std::string> fetch_data(std::string path, std::chrono::milliseconds timeout) {
    std::string body;
    try {
        body = co_await corio::wait_for(serve(path), timeout);
    } catch (const corio::timeout_error&) {
        throw corio::timeout_error("request to " + path + " timed out after " + corio::format_duration(timeout));
    } catch (const corio::connection_error& e) {
        throw corio::connection_error("failed to fetch " + path + ": " + e.what());
    }
    if (!looks_like_json(body)) throw invalid_response("invalid JSON response from " + path + ": " + body);
    co_return body;
}

corio::task<std::vector<std::string>> fetch_page(int page, std::chrono::milliseconds timeout) {
    auto one_page = [](int n) -> corio::task<std::vector<std::string>> {
        co_await corio::sleep(15ms);
        std::vector<std::string> items;
        if (n <= 3)
            for (int i = 1; i <= 4; ++i) items.push_back("item-" + std::to_string((n - 1) * 4 + i));
        co_return items;
    };
    co_return co_await corio::wait_for(one_page(page), timeout);
}

std::vector<std::string> example_paths() { return {"/users", "/orders", "/slow", "/broken", "/error", "/invalid-json", "/missing"}; }

}  // namespace tour
