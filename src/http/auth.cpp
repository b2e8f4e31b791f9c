// auth.cpp — see corio/http/auth.hpp.
#include "corio/http/auth.hpp"

#include <algorithm>
#include <stdexcept>

#include "base64.hpp"

namespace corio::http {

namespace {

/// RFC 7235 token68: letters, digits, "-._~+/", then any '='.
bool is_token68(const std::string& s) {
    const std::size_t end = s.find_last_not_of('=');
    if (end == std::string::npos) return false;
    return std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(end) + 1, [](char c) {
        const bool alphanumeric = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        return alphanumeric || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    });
}

}  // namespace

auth auth::basic(const std::string& user, const std::string& password) {
    if (user.find(':') != std::string::npos) throw std::invalid_argument("http::auth::basic: a user name cannot hold ':'");
    return auth("Basic " + detail::base64(user + ":" + password));
}

auth auth::bearer(const std::string& token) {
    if (!is_token68(token))
        throw std::invalid_argument("http::auth::bearer: the token must be token68 (letters, digits, -._~+/ and trailing =)");
    return auth("Bearer " + token);
}

}  // namespace corio::http
