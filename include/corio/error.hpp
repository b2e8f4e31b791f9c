// corio/error.hpp — the exception types every corio operation throws.
//
// Hierarchy:
//   std::runtime_error
//     └─ corio::error                  any failure reported by corio
//          ├─ corio::timeout_error     a deadline expired (wait_for, client timeouts, ...)
//          ├─ corio::connection_error  a peer could not be reached or went away
//          └─ corio::exception_group   several errors from a task_group (exception_group.hpp)
//   corio::cancelled_error             stands apart: NOT a std::exception
//
// cancelled_error deliberately does not derive from std::exception, so a
// `catch (const std::exception&)` cannot swallow a cancellation by accident (Python learnt this
// when CancelledError moved to BaseException). Catch it only to clean up, then rethrow.
//
// Thread-safety: these are plain value types.
#pragma once

#include <chrono>
#include <exception>
#include <type_traits>
#include <typeinfo>
#include <stdexcept>
#include <string>

namespace corio {

/// Base of every error corio reports. The message names what failed and where.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A deadline expired before the operation finished. The message includes the duration.
class timeout_error : public error {
public:
    using error::error;
};

/// A network peer could not be reached, refused, or went away (subclassed by the net layer).
class connection_error : public error {
public:
    using error::error;
};

/// Thrown at a suspension point of a task whose cancellation was requested.
/// Not a std::exception by design; see the header comment.
class cancelled_error final {
public:
    cancelled_error() noexcept = default;
    /// `reason` must outlive the exception (a string literal).
    explicit cancelled_error(const char* reason) noexcept : reason_(reason) {}
    const char* what() const noexcept { return reason_; }

private:
    const char* reason_ = "task was cancelled";
};

/// Formats a duration for messages: "250ms", "1.5s", "3us".
std::string format_duration(std::chrono::nanoseconds d);

/// True if `e` holds an exception of type E (or derived from it).
template <class E>
bool holds(const std::exception_ptr& e) noexcept {
    if (!e) return false;
#if defined(__GLIBCXX__)
    if constexpr (std::is_final_v<E>) {  // no subclasses: the exact type decides, no rethrow
        const std::type_info* type = e.__cxa_exception_type();
        return type != nullptr && *type == typeid(E);
    }
#endif
    try {
        std::rethrow_exception(e);
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}

}  // namespace corio
