// trace.cpp — see corio/http/trace.hpp; the events are sent from client_session.cpp and
// body_reader (client_response.cpp).
#include "corio/http/trace.hpp"

namespace corio::http {

std::string_view to_string(trace_kind kind) noexcept {
    switch (kind) {
        case trace_kind::request_start: return "request_start";
        case trace_kind::connection_queued_start: return "connection_queued_start";
        case trace_kind::connection_queued_end: return "connection_queued_end";
        case trace_kind::connection_reuse: return "connection_reuse";
        case trace_kind::connection_create_start: return "connection_create_start";
        case trace_kind::dns_cache_hit: return "dns_cache_hit";
        case trace_kind::dns_start: return "dns_start";
        case trace_kind::dns_end: return "dns_end";
        case trace_kind::connection_create_end: return "connection_create_end";
        case trace_kind::request_headers_sent: return "request_headers_sent";
        case trace_kind::response_first_byte: return "response_first_byte";
        case trace_kind::request_redirect: return "request_redirect";
        case trace_kind::request_end: return "request_end";
        case trace_kind::response_chunk_received: return "response_chunk_received";
        case trace_kind::response_end: return "response_end";
        case trace_kind::request_exception: return "request_exception";
    }
    return "unknown";
}

}  // namespace corio::http
