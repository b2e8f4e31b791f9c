// Implementation of corio/http/errors.hpp.
#include "corio/http/errors.hpp"

namespace corio::http {

status_error::status_error(int status, std::string reason, const std::string& method, std::string url,
                           http::headers response_headers)
    : error(method + " " + url + ": " + std::to_string(status) + (reason.empty() ? "" : " ") + reason),
      status_(status),
      reason_(std::move(reason)),
      url_(std::move(url)),
      headers_(std::move(response_headers)) {}

}  // namespace corio::http
