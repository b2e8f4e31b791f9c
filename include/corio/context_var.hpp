// corio/context_var.hpp — context_var<T>: a value that belongs to the running task and is
// inherited by the tasks it starts (Python's contextvars, Tokio's task_local!).
//
// snippet: examples/context_var.cpp#tenant
//   corio::task<> nightly() {
//       auto bound = tenant.set("acme");          // until `bound` goes out of scope
//       auto [a, b] = co_await corio::gather(report(), report());  // both children see "acme"
//       std::printf("%s, %s\n", a.c_str(), b.c_str());
//       const std::string other = co_await tenant.scoped("globex", report());  // bound for this call only
//       std::printf("%s\n", other.c_str());
//   }
//
// A binding made with set() holds for the rest of the enclosing block of the task that made it
// (and of the lazy tasks it awaits); scoped(value, op) binds around one awaitable, which is how
// to give a spawned task its own value: spawn(var.scoped(v, op)). A task starts with its
// spawner's bindings as they were at the spawn (spawn, task_group, gather, task_set, wait_for,
// to_thread's worker call): a later set() in either task is not seen by the other. Outside any
// task, bindings belong to the thread.
//
// Reading is a walk of the running task's bindings (usually a handful): no lock, no allocation.
// Setting allocates one small link. corio itself binds corio::request_id (log.hpp) around each
// request the HTTP server handles.
//
// A context_var is identified by its address: make it a namespace-scope or static variable that
// outlives every task using it. Thread-safety: bindings are per task (or per thread outside
// tasks); values are shared by the tasks that inherit them, so they are read-only once bound.
// Throws: set() and scoped() throw std::bad_alloc only. Cancel safety: a binding ends with its
// block on every path, cancellation included.
#pragma once

#include <optional>
#include <utility>

#include "corio/detail/awaitable_traits.hpp"
#include "corio/detail/task_state.hpp"
#include "corio/task.hpp"

namespace corio {

template <class T>
class context_var {
    struct link final : detail::context_link {
        link(const void* key, T v) : context_link(key), value(std::move(v)) {}
        const T value;
    };

public:
    /// Ends a set(): the variable reads what it read before (in the task that made the binding).
    class [[nodiscard]] binding {
    public:
        binding(const binding&) = delete;
        binding& operator=(const binding&) = delete;
        ~binding() { slot_ = std::move(previous_); }

    private:
        friend class context_var;
        binding(detail::context_ref& slot, detail::context_link* fresh) noexcept : slot_(slot), previous_(slot) {
            slot_ = slot_.with(fresh);
        }
        detail::context_ref& slot_;      // the context of the task (or thread) that bound it
        detail::context_ref previous_;   // what slot_ held before
    };

    constexpr context_var() noexcept = default;
    context_var(const context_var&) = delete;
    context_var& operator=(const context_var&) = delete;

    /// The value bound in the running task (or inherited by it), or null if none is.
    const T* get() const noexcept {
        const detail::context_link* l = detail::current_context().find(this);
        return l != nullptr ? &static_cast<const link*>(l)->value : nullptr;
    }
    /// The bound value, or `fallback`.
    T value_or(T fallback) const {
        const T* v = get();
        return v != nullptr ? *v : std::move(fallback);
    }

    /// Binds `value` in the running task until the returned binding is destroyed.
    binding set(T value) const { return binding(detail::current_context(), new link(this, std::move(value))); }

    /// Awaits `op` with `value` bound (and the tasks it starts inheriting it).
    template <awaitable A>
    task<detail::await_result_t<A>> scoped(T value, A op) const {
        const binding bound = set(std::move(value));
        co_return co_await std::move(op);
    }
};

}  // namespace corio
