// Private to the HTTP code: base64 (RFC 4648, with padding) for Basic credentials and the
// WebSocket handshake.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

namespace corio::http::detail {

inline std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                    reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

}  // namespace corio::http::detail
