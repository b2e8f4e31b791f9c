// corio/log.hpp — where corio reports errors that have no caller to throw to.
//
// A background task's error that nobody retrieved, a close error hidden behind a body's error,
// a task_set child that failed: corio never drops these silently. They go to the error logger,
// which by default writes one line to stderr. Tests and applications may replace it.
//
// Thread-safety: set_error_logger is not synchronised with concurrent logging; call it at start-up.
#pragma once

#include <functional>
#include <string_view>

namespace corio {

using error_logger = std::function<void(std::string_view message)>;

/// Replaces the logger; returns the previous one. An empty function restores the default.
error_logger set_error_logger(error_logger logger);

/// Reports a message through the current logger.
void log_error(std::string_view message);

/// Describes any exception_ptr for a message: its what(), or a placeholder for unknown types.
std::string describe(const std::exception_ptr& e);

}  // namespace corio
