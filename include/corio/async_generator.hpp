// corio/async_generator.hpp — async_generator<T>: a coroutine that co_yields values lazily.
//
//   corio::async_generator<item> pages(client& c) {
//       for (int page = 1;; ++page) {
//           auto items = co_await c.fetch_page(page);
//           if (items.empty()) co_return;
//           for (auto& i : items) co_yield std::move(i);
//       }
//   }
//   while (auto item = co_await gen.next()) use(*item);      // std::optional<T>
//   co_await corio::for_each(pages(c), [](item i) { ... });   // fn may return void or task<>
//
// The generator's body runs in the consuming task, only while the consumer awaits next(): it
// can await anything, and the consumer's cancellation reaches it. An exception in the body
// propagates out of next(). A consumer that stops early, throws, or is cancelled destroys the
// generator: the body's frame is destroyed at its suspended co_yield, so its RAII cleanup runs
// (destructors must not await; for async cleanup, finish the body instead).
//
// Cancel safety of next(): as that of whatever the body awaits at that moment; a value that was
// already yielded is never lost (the body has not run past its co_yield).
// Thread-safety: one consumer on one loop. Move-only; next() must not be called concurrently.
#pragma once

#include <cassert>
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "corio/detail/frame_allocator.hpp"
#include "corio/task.hpp"

namespace corio {

template <class T>
class [[nodiscard]] async_generator {
public:
    static_assert(!std::is_reference_v<T> && !std::is_void_v<T>);

    struct promise_type : detail::pooled {
        async_generator get_return_object() noexcept {
            return async_generator(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        auto final_suspend() const noexcept { return to_consumer{}; }
        template <class U = T>
            requires std::is_convertible_v<U&&, T>
        auto yield_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
            value.emplace(std::forward<U>(v));
            return to_consumer{};
        }
        void return_void() const noexcept {}
        void unhandled_exception() noexcept { error = std::current_exception(); }

        struct to_consumer {
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) const noexcept {
                return h.promise().consumer;
            }
            void await_resume() const noexcept {}
        };

        std::optional<T> value;           // the yielded value, until the consumer takes it
        std::exception_ptr error;         // set if the body threw
        std::coroutine_handle<> consumer; // the frame awaiting next()
    };
    using handle_type = std::coroutine_handle<promise_type>;

    async_generator(async_generator&& o) noexcept : handle_(std::exchange(o.handle_, {})) {}
    async_generator& operator=(async_generator&& o) noexcept {
        if (this != &o) {
            reset();
            handle_ = std::exchange(o.handle_, {});
        }
        return *this;
    }
    ~async_generator() { reset(); }

    /// Resumes the body until its next co_yield (the value) or its end (std::nullopt).
    auto next() noexcept {
        struct awaiter {
            handle_type h;
            bool await_ready() const noexcept { return !h || h.done(); }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) noexcept {
                h.promise().consumer = consumer;
                h.promise().value.reset();
                return h;
            }
            std::optional<T> await_resume() {
                if (!h) return std::nullopt;
                promise_type& p = h.promise();
                if (p.error) std::rethrow_exception(std::exchange(p.error, nullptr));
                if (h.done()) return std::nullopt;
                return std::move(p.value);
            }
        };
        return awaiter{handle_};
    }

private:
    explicit async_generator(handle_type h) noexcept : handle_(h) {}
    void reset() noexcept {
        if (handle_) std::exchange(handle_, {}).destroy();
    }
    handle_type handle_;
};

/// Calls fn on every value of gen, in order; fn may return void or a task<> to await.
/// The generator and fn are moved into this coroutine's frame.
template <class T, class F>
task<> for_each(async_generator<T> gen, F fn) {
    while (auto v = co_await gen.next()) {
        if constexpr (is_task_v<std::invoke_result_t<F&, T&&>>)
            co_await fn(std::move(*v));
        else
            fn(std::move(*v));
    }
}

}  // namespace corio
