// corio/net/errors.hpp — the network failures, each a corio::connection_error naming its peer.
//
//   dns_error               a host name could not be resolved (no such name, no address, server failure)
//   connect_error           the peer could not be reached: refused, unreachable, no route
//   connection_reset_error  an established connection was reset or broken (ECONNRESET, EPIPE)
//   tls_error               TLS failed: handshake (certificate verification, protocol mismatch), a
//                           corrupt record, or a bad context (CA file, certificate, key); the message
//                           carries OpenSSL's reason ("... failed: certificate verify failed: ...")
// Timeouts are corio::timeout_error ("connect to 10.0.0.1:80 timed out after 5s").
#pragma once

#include "corio/error.hpp"

namespace corio::net {

class dns_error : public connection_error {
public:
    using connection_error::connection_error;
};

class connect_error : public connection_error {
public:
    using connection_error::connection_error;
};

class connection_reset_error : public connection_error {
public:
    using connection_error::connection_error;
};
using connection_reset = connection_reset_error;  ///< the name before every error ended in _error

class tls_error : public connection_error {
public:
    using connection_error::connection_error;
};

}  // namespace corio::net
