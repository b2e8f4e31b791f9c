// The tour's stand-in for a remote HTTP API, until corio's HTTP client lands.
//
// Each path behaves like a real endpoint would: answers after a delay, fails, hangs, returns a
// broken body, or pages through items. Nothing is faked about corio itself: every wait is a real
// corio::sleep on the loop, every failure a real exception crossing real tasks.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <corio/corio.hpp>

namespace tour {

/// The body was not the JSON the caller expected (the seed's ValueError).
class invalid_response : public corio::error {
public:
    using corio::error::error;
};

/// Fetches `path` from the simulated service with a total timeout, mapping every failure to a
/// precise error that names the path, as the seed's fetch_data does:
///   corio::timeout_error     the call exceeded `timeout`
///   corio::connection_error  the service refused or dropped the connection, or answered 5xx
///   tour::invalid_response   the body is not valid JSON
corio::task<std::string> fetch_data(std::string path, std::chrono::milliseconds timeout);

/// One page of `/items?page=N`; an empty page marks the end.
corio::task<std::vector<std::string>> fetch_page(int page, std::chrono::milliseconds timeout);

/// The paths the simulated service knows (for the tour's listing).
std::vector<std::string> example_paths();

}  // namespace tour
