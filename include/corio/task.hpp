// corio/task.hpp — task<T>: a lazy coroutine that produces a T (or throws).
//
// A task does nothing until it is awaited (`co_await make_thing()`) or spawned (corio::spawn).
// It is move-only and awaitable once. Awaiting uses symmetric transfer both ways, so a loop that
// awaits millions of already-finished child tasks runs in constant stack space. An exception
// thrown in the task propagates to its awaiter.
//
// Lifetime: parameters taken by reference must outlive the task. For a task that is spawned,
// prefer by-value parameters; for a lambda coroutine, the closure object must outlive the task
// (capture-less lambdas, or APIs such as with_task_group that keep the closure alive).
//
// Cancel safety: awaiting a task is not itself a suspension point; the task's body decides.
// Thread-safety: a task is resumed only by the loop it runs on.
#pragma once

#include <cassert>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "corio/detail/debug_hooks.hpp"
#include "corio/detail/frame_allocator.hpp"
#include "corio/detail/task_state.hpp"

namespace corio {

template <class T = void>
class task;

namespace detail {

/// A spawned task's move-only result was read a second time.
[[noreturn]] void throw_value_taken();
/// `what` ("task", "join_handle") is empty: moved from or default-constructed.
[[noreturn]] void throw_empty(const char* what);

struct promise_base : pooled {
    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
            promise_base& p = h.promise();
            if (task_state* owner = p.owner()) {
                owner->complete();  // may destroy this frame: touch nothing afterwards
                return std::noop_coroutine();
            }
            if (debug_on) [[unlikely]] debug_note_frame_done(p);
            return p.continuation();
        }
        void await_resume() const noexcept {}
    };

    std::suspend_always initial_suspend() const noexcept { return {}; }
    final_awaiter final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept {
        error = std::current_exception();
        if (debug_on) [[unlikely]] debug_note_exception(*this);
    }

    /// The awaiting frame, when awaited as a child (else null).
    std::coroutine_handle<> continuation() const noexcept {
        return std::coroutine_handle<>::from_address(link_ & owner_tag ? nullptr : reinterpret_cast<void*>(link_));
    }
    /// The task's state, when this is a spawned root frame (else null).
    task_state* owner() const noexcept {
        return link_ & owner_tag ? reinterpret_cast<task_state*>(link_ & ~owner_tag) : nullptr;
    }
    /// Neither awaited nor spawned yet: the body never ran.
    bool unclaimed() const noexcept { return link_ == 0; }
    void set_continuation(std::coroutine_handle<> awaiting) noexcept {
        link_ = reinterpret_cast<std::uintptr_t>(awaiting.address());
    }
    void set_owner(task_state& task) noexcept { link_ = reinterpret_cast<std::uintptr_t>(&task) | owner_tag; }

    std::exception_ptr error;  // set iff the body exited by an exception

private:
    static constexpr std::uintptr_t owner_tag = 1;  // frames and task states are at least 2-aligned
    // One word for the two things a frame may finish into: the awaiting frame's address, or the
    // owning task_state's address | owner_tag. 0 until it is awaited or spawned (only one happens).
    std::uintptr_t link_ = 0;
};

template <class T>
struct task_promise final : promise_base {
    task<T> get_return_object() noexcept;
    template <class U = T>
        requires std::is_convertible_v<U&&, T>
    void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        value.emplace(std::forward<U>(v));
    }
    /// The value, moved out; rethrows the stored exception.
    T take() {
        if (error) std::rethrow_exception(error);
        assert(value.has_value());
        return std::move(*value);
    }

    /// The value without consuming it when T is copyable (a spawned task may be read twice);
    /// a move-only value can be read once, then this throws corio::error.
    T get() {
        if (error) std::rethrow_exception(error);
        if constexpr (std::is_copy_constructible_v<T>) {
            return *value;
        } else {
            if (!value) throw_value_taken();
            T out = std::move(*value);
            value.reset();
            return out;
        }
    }

    std::optional<T> value;  // engaged iff the body returned normally (and, move-only, not taken)
};

template <>
struct task_promise<void> final : promise_base {
    task<void> get_return_object() noexcept;
    void return_void() const noexcept {}
    void take() const {
        if (error) std::rethrow_exception(error);
    }
    void get() const { take(); }
};

inline bool task_state::failed() const noexcept { return !root_ || promise().error; }

}  // namespace detail

template <class T>
class [[nodiscard]] task {
public:
    static_assert(!std::is_reference_v<T>, "task<T&> is not supported; return a pointer");
    using promise_type = detail::task_promise<T>;
    using handle_type = std::coroutine_handle<promise_type>;
    using value_type = T;

    task() noexcept = default;
    explicit task(handle_type h) noexcept : handle_(h) {}
    task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    // Inlined, so that debug mode's never-awaited report names the caller's line. (Only the
    // test: forcing reset() into every coroutine too cost g++ -O1 ASan builds their tail calls.)
    [[gnu::always_inline]] ~task() {
        // Neither awaited (no continuation) nor spawned (no owner): it never ran.
        if (handle_ && handle_.promise().unclaimed() && detail::debug_on) [[unlikely]]
            detail::debug_report_never_awaited(handle_.address());
        reset();
    }

    /// True if this object holds a coroutine (not moved-from or default-constructed).
    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

    /// Gives up ownership of the frame (used by spawn and the combinators).
    handle_type release() noexcept { return std::exchange(handle_, {}); }

    /// What `co_await std::move(t)` suspends on: runs the task's body with the awaiter as its
    /// continuation (symmetric transfer both ways).
    struct awaiter {
        handle_type h;
        bool await_ready() const noexcept { return h.done(); }
        [[gnu::always_inline]] std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
            promise_type& child = h.promise();
            child.set_continuation(caller);
            if (detail::debug_on) [[unlikely]] detail::debug_note_await(child);
            return h;
        }
        T await_resume() { return h.promise().take(); }
    };

    /// Throws corio::error for an empty task (moved from, or default-constructed).
    awaiter operator co_await() && {
        if (!handle_) detail::throw_empty("task");
        return awaiter{handle_};
    }

private:
    void reset() noexcept {
        if (handle_) std::exchange(handle_, {}).destroy();
    }
    handle_type handle_;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}
}  // namespace detail

/// True for corio::task<T> types.
template <class T>
inline constexpr bool is_task_v = false;
template <class T>
inline constexpr bool is_task_v<task<T>> = true;

}  // namespace corio
