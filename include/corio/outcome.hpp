// corio/outcome.hpp — outcome<T>: the settled result of an operation, a value or an error.
//
// gather_settled and as_completed report each child as an outcome, so one failure does not hide
// the others (asyncio's gather(return_exceptions=True), folly's collectAllTry). outcome<void>
// holds either nothing or an error.
//
// Throws: value() rethrows the stored error. Thread-safety: a plain value type.
#pragma once

#include <exception>
#include <utility>
#include <variant>

namespace corio {

template <class T>
class outcome {
public:
    explicit outcome(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    explicit outcome(std::exception_ptr error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    /// The value; rethrows the error if there is one.
    T& value() & {
        rethrow_if_error();
        return std::get<0>(state_);
    }
    const T& value() const& {
        rethrow_if_error();
        return std::get<0>(state_);
    }
    T&& value() && {
        rethrow_if_error();
        return std::get<0>(std::move(state_));
    }
    /// The error, or null when there is a value.
    std::exception_ptr error() const noexcept { return has_value() ? nullptr : std::get<1>(state_); }

private:
    void rethrow_if_error() const {
        if (!has_value()) std::rethrow_exception(std::get<1>(state_));
    }
    std::variant<T, std::exception_ptr> state_;
};

template <>
class outcome<void> {
public:
    outcome() noexcept = default;
    explicit outcome(std::exception_ptr error) noexcept : error_(std::move(error)) {}

    bool has_value() const noexcept { return !error_; }
    explicit operator bool() const noexcept { return has_value(); }
    void value() const {
        if (error_) std::rethrow_exception(error_);
    }
    std::exception_ptr error() const noexcept { return error_; }

private:
    std::exception_ptr error_;  // null iff the operation succeeded
};

}  // namespace corio
