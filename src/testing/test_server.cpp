// test_server (corio/testing/test_server.hpp).
#include "corio/testing/test_server.hpp"

#include <utility>

namespace corio::testing {

task<test_server> test_server::start(http::server& app, test_server_options options) {
    const net::endpoint where = co_await app.start(net::endpoint::parse("127.0.0.1", 0));
    co_return test_server(app, where, options);
}

test_server::test_server(test_server&& other) noexcept
    : app_(std::exchange(other.app_, nullptr)), endpoint_(other.endpoint_), options_(other.options_) {}

test_server& test_server::operator=(test_server&& other) noexcept {
    if (this != &other) {
        if (app_ != nullptr) app_->stop(options_.close_grace);
        app_ = std::exchange(other.app_, nullptr);
        endpoint_ = other.endpoint_;
        options_ = other.options_;
    }
    return *this;
}

test_server::~test_server() {
    if (app_ != nullptr) app_->stop(options_.close_grace);
}

std::string test_server::url(std::string_view path) const { return "http://" + endpoint_.to_string() + std::string(path); }

http::client_session test_server::client(http::session_options options) const {
    options.base_url = url("/");
    return http::client_session(std::move(options));
}

task<> test_server::close() {
    http::server* app = std::exchange(app_, nullptr);
    if (app == nullptr) co_return;
    app->stop(options_.close_grace);
    co_await app->wait_closed();
}

}  // namespace corio::testing
