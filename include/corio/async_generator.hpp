// corio/async_generator.hpp — async_generator<T>: a coroutine that co_yields values lazily.
//
// snippet: examples/streams.cpp#generator
//   // Like an async generator in Python: values are produced lazily, one page at a time.
//   corio::async_generator<int> all_items() {
//       for (int page = 1;; ++page) {
//           std::vector<int> items = co_await corio::wait_for(fetch_page(page), 1s);
//           if (items.empty()) co_return;
//           for (int item : items) co_yield item;
//       }
//   }
// snippet: examples/streams.cpp#for_each
//   auto items = all_items();
//   while (std::optional<int> item = co_await items.next()) sum += *item;
//   // or: co_await corio::for_each(all_items(), [&](int item) { sum += item; });
//
// The generator's body runs in the consuming task, only while the consumer awaits next(): it
// can await anything, and the consumer's cancellation reaches it. An exception that escapes the
// body propagates out of next() and ENDS the generator: every later next() throws
// generator_error (never a quiet end of stream that would pass a cut-off sequence for a whole
// one). A consumer that stops early, throws, or is cancelled destroys the generator: the body's
// frame is destroyed at its suspended co_yield, so its RAII cleanup runs (destructors must not
// await; for async cleanup, finish the body instead).
//
// Cancel safety of next(): as that of whatever the body awaits at that moment; a value that was
// already yielded is never lost (the body has not run past its co_yield). A body can make its
// next() fully cancel-safe — a wait_for(gen.next(), 5ms) that times out loses nothing, and the
// following next() carries on — by catching the cancellation where it waits and handing it to
// the consumer without ending:
// snippet: examples/streams.cpp#yield_exception
//   std::exception_ptr cancelled;
//   try { message = co_await inbox.pop(); } catch (const corio::cancelled_error&) { cancelled = std::current_exception(); }
//   if (cancelled) co_yield corio::yield_exception(cancelled);  // next() throws it; the body stays here
// as_completed, client_response::chunks and request::body_stream do this.
// Thread-safety: one consumer on one loop. Move-only; next() must not be called concurrently.
#pragma once

#include <cassert>
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "corio/detail/frame_allocator.hpp"
#include "corio/error.hpp"
#include "corio/task.hpp"

namespace corio {

/// Thrown by next() on a generator whose body already ended with an exception (which the
/// earlier next() reported).
class generator_error : public error {
public:
    using error::error;
};

namespace detail {
struct exception_to_yield {
    std::exception_ptr error;
};
}  // namespace detail

/// `co_yield yield_exception(e)` in a generator body: next() throws `e`, and the body stays
/// suspended right there, so the following next() resumes it (see the header comment).
inline detail::exception_to_yield yield_exception(std::exception_ptr e) noexcept { return {std::move(e)}; }

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
        auto yield_value(detail::exception_to_yield e) noexcept {
            error = std::move(e.error);
            return to_consumer{};
        }
        void return_void() const noexcept {}
        void unhandled_exception() noexcept {
            error = std::current_exception();
            ended_by_error = true;
        }

        struct to_consumer {
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) const noexcept {
                return h.promise().consumer;
            }
            void await_resume() const noexcept {}
        };

        std::optional<T> value;           // the yielded value, until the consumer takes it
        std::exception_ptr error;         // for the consumer: the body threw, or yielded it
        std::coroutine_handle<> consumer; // the frame awaiting next()
        bool ended_by_error = false;      // the body ended with an exception: later next() throw
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
                if (p.ended_by_error)
                    throw generator_error("async_generator: next() after the generator ended with an exception "
                                          "(an earlier next() reported it)");
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

namespace detail {

/// The values `source()` (returning an awaitable of std::optional<T>) produces, until nullopt.
/// A cancellation while source() waits is handed to the consumer without ending the generator,
/// so its next() is exactly as cancel-safe as source(). `source` lives in the generator's frame.
template <class T, class Source>
async_generator<T> generate_from(Source source) {
    for (;;) {
        std::optional<T> value;
        std::exception_ptr interrupted;
        try {
            value = co_await source();
        } catch (const cancelled_error&) {
            interrupted = std::current_exception();
        }
        if (interrupted) {
            co_yield yield_exception(std::move(interrupted));
            continue;
        }
        if (!value) co_return;
        co_yield std::move(*value);
    }
}

}  // namespace detail

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
