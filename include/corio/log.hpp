// corio/log.hpp — where corio reports errors that have no caller to throw to.
//
// A background task's error that nobody retrieved, a close error hidden behind a body's error,
// a task_set child that failed: corio never drops these silently. They go to the error logger,
// which by default writes one line to stderr. Tests and applications may replace it.
// A line logged while corio::request_id is bound to an id (the HTTP server binds it around each
// request it handles, and every task started from there inherits it) ends with " [request_id=ID]".
//
// Thread-safety: set_error_logger is not synchronised with concurrent logging; call it at start-up.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace corio {

template <class T>
class context_var;

/// The request the running task works for (corio/context_var.hpp): bound by http::server around
/// each request, carried by log lines and, with client_options::send_request_id, by the
/// HTTP client's requests as X-Request-Id.
extern const context_var<std::string> request_id;

using error_logger = std::function<void(std::string_view message)>;

/// Replaces the logger; returns the previous one. An empty function restores the default.
error_logger set_error_logger(error_logger logger);

/// Reports a message through the current logger.
void log_error(std::string_view message);

/// Describes any exception_ptr for a message: its what(), or a placeholder for unknown types.
std::string describe(const std::exception_ptr& e);

}  // namespace corio
