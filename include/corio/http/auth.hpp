// corio/http/auth.hpp — http::auth: credentials a client_session sends as Authorization (aiohttp's
// BasicAuth, reqwest's basic_auth/bearer_auth).
//
// snippet: examples/http_client.cpp#auth
//   http::client_session api({.base_url = service.url("/"), .auth = http::auth::bearer("s3cr3t-token")});
//   auto mine = co_await api.get("headers", http::request_options().auth(http::auth::basic("ann", "pw")));
//
// Given per session (session_options::auth) or per request (request_options::auth, which wins),
// or as user:password in the request's URL (used as basic credentials, then removed from the
// URL so no message or log line shows them). Credentials never follow a redirect to another
// origin: one that leaves the scheme, host and port they were sent to drops the Authorization
// header (a session's credentials still go with every request it is asked to send).
// Throws std::invalid_argument where they are made: a basic user name holding ':' (RFC 7617),
// a bearer token that is not token68 (RFC 6750: no spaces, CR or LF — nothing to inject).
// Thread-safety: a value type.
#pragma once

#include <string>

namespace corio::http {

class auth {
public:
    /// "Basic " + base64(user ":" password), the UTF-8 bytes as given.
    static auth basic(const std::string& user, const std::string& password);
    /// "Bearer " + token.
    static auth bearer(const std::string& token);

    /// The Authorization header's value.
    const std::string& header_value() const noexcept { return value_; }

private:
    explicit auth(std::string value) : value_(std::move(value)) {}
    std::string value_;
};

}  // namespace corio::http
