#include "remote_service.hpp"

#include <memory>

namespace tour {
namespace {

std::unique_ptr<corio::http::client_session> session;  // the tour's one connection pool

corio::task<nlohmann::json> get_json(std::string path, std::chrono::milliseconds timeout) {
    auto response = co_await session->get(path, corio::http::request_options().timeout({.total = timeout}));
    try {
        response.raise_for_status();
    } catch (const corio::http::status_error& e) {
        throw corio::connection_error(std::string("failed to fetch: ") + e.what());
    }
    co_return co_await response.json();
}

}  // namespace

void connect(std::string base_url) {
    session = std::make_unique<corio::http::client_session>(corio::http::session_options{.base_url = std::move(base_url)});
}

corio::task<> disconnect() {
    co_await session->aclose();
    session.reset();
}

corio::task<std::string> fetch_data(std::string path, std::chrono::milliseconds timeout) {
    co_return (co_await get_json(std::move(path), timeout)).dump();
}

corio::task<std::vector<std::string>> fetch_page(int page, std::chrono::milliseconds timeout) {
    const auto body = co_await get_json("/items?page=" + std::to_string(page), timeout);
    co_return body.at("items").get<std::vector<std::string>>();
}

}  // namespace tour
