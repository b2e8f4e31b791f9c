// The tour's remote API: real HTTP requests, through one http::client_session, to the demo
// service (tests/support/demo_service.hpp) that the tour starts on 127.0.0.1.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <corio/corio.hpp>

namespace tour {

/// Where fetch_data and fetch_page send their requests: `base_url` is the demo service's
/// address. Call before the first fetch; close() at the end closes the session's connections.
void connect(std::string base_url);
corio::task<> disconnect();

/// Fetches `path` from the service with a total timeout and returns its JSON body as text,
/// mapping every failure to a precise error that names the URL, as the seed's fetch_data does:
///   corio::timeout_error     the call exceeded `timeout`
///   corio::connection_error  unreachable, reset, or a 4xx/5xx answer
///   http::json_error         the body is not valid JSON
corio::task<std::string> fetch_data(std::string path, std::chrono::milliseconds timeout);

/// The items of one page of `/items?page=N`; an empty page marks the end.
corio::task<std::vector<std::string>> fetch_page(int page, std::chrono::milliseconds timeout);

}  // namespace tour
