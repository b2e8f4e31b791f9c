// corio/exception_group.hpp — exception_group: several errors raised together.
//
// A task_group that ends with failures throws one exception_group holding every error that is not
// a cancellation, in the order they occurred (Python's ExceptionGroup from asyncio.TaskGroup).
// what() lists them: "2 errors in task group: [1] ...; [2] ...".
//
// Thread-safety: a plain value type.
#pragma once

#include <exception>
#include <string>
#include <vector>

#include "corio/error.hpp"

namespace corio {

class exception_group : public error {
public:
    /// `errors` must not be empty.
    explicit exception_group(std::vector<std::exception_ptr> errors, const std::string& context = "task group");

    const std::vector<std::exception_ptr>& errors() const noexcept { return errors_; }
    const std::exception_ptr& first() const noexcept { return errors_.front(); }
    std::size_t size() const noexcept { return errors_.size(); }

    /// True if some error in the group is of type E (or derived from it).
    template <class E>
    bool contains() const noexcept {
        for (const auto& e : errors_)
            if (holds<E>(e)) return true;
        return false;
    }

private:
    std::vector<std::exception_ptr> errors_;  // invariant: non-empty
};

}  // namespace corio
