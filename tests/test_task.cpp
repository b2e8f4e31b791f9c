// task<T>, spawn/join_handle, run(): laziness, results, errors, stack depth, handle API.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/detail/frame_allocator.hpp>

#include <malloc.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>

using namespace std::chrono_literals;

namespace {

corio::task<int> value_of(int v) { co_return v; }

corio::task<> fail_with(std::string msg) {
    throw std::runtime_error(msg);
    co_return;
}

corio::task<long> sum_of_children(int count) {
    long sum = 0;
    for (int i = 0; i < count; ++i) sum += co_await value_of(i);
    co_return sum;
}

TEST(task, is_lazy_until_awaited) {
    bool started = false;
    auto body = [&]() -> corio::task<> {
        started = true;
        co_return;
    };
    corio::run([&]() -> corio::task<> {
        auto t = body();
        EXPECT_FALSE(started);
        co_await std::move(t);
        EXPECT_TRUE(started);
    }());
}

/// True four times, then false; suspends each time, as a read that waits for a socket does.
corio::task<bool> ready_four_times(int& calls) {
    co_await corio::yield();
    co_return ++calls <= 4;
}

/// The shape of every "wait, or give up" loop (pg's read_more, the server's request reader): a
/// bool awaited from a task, then tested. g++ 12 loses the continuation when the co_await sits
/// in the if's condition and the branch throws (`if (!co_await ready()) throw ...;` hangs, at
/// -O0 too; clang is right): corio's code names the value first, as here.
corio::task<> wait_or_give_up(int& calls) {
    for (;;) {
        const bool ready = co_await ready_four_times(calls);
        if (!ready) throw corio::timeout_error("gave up after " + std::to_string(calls) + " waits");
    }
}

TEST(task, a_bool_awaited_in_a_loop_then_tested_reaches_its_throw) {
    int calls = 0;
    try {
        corio::run(wait_or_give_up(calls));
        ADD_FAILURE() << "no exception";
    } catch (const corio::timeout_error& e) {
        EXPECT_STREQ(e.what(), "gave up after 5 waits");
    }
}

/// The same class with the branch returning a value (the multipart reader's shape): g++ 12 hung,
/// or at -O2 jumped into a trap, on `if (co_await next() == end) co_return std::nullopt;` after a
/// `while (..) if (co_await next() == part_end) ...;` loop. Named values, as here, are right.
corio::task<std::optional<int>> waits_until_not_ready(int& calls) {
    int waits = 0;
    while (waits < 10) {
        const bool ready = co_await ready_four_times(calls);
        if (!ready) break;
        ++waits;
    }
    const bool ready = co_await ready_four_times(calls);
    if (!ready) co_return std::nullopt;
    co_return waits;
}

TEST(task, a_value_awaited_then_compared_reaches_its_co_return) {
    int calls = 0;
    EXPECT_EQ(corio::run(waits_until_not_ready(calls)), std::nullopt);
    EXPECT_EQ(calls, 6);
}

TEST(task, returns_value_through_run) { EXPECT_EQ(corio::run(value_of(42)), 42); }

TEST(task, move_only_value) {
    auto make = []() -> corio::task<std::unique_ptr<int>> { co_return std::make_unique<int>(7); };
    EXPECT_EQ(*corio::run(make()), 7);
}

TEST(task, exception_propagates_to_awaiter_and_out_of_run) {
    EXPECT_THROW(corio::run(fail_with("boom")), std::runtime_error);
    bool caught = false;
    corio::run([&]() -> corio::task<> {
        try {
            co_await fail_with("inner");
        } catch (const std::runtime_error& e) {
            caught = std::string(e.what()) == "inner";
        }
    }());
    EXPECT_TRUE(caught);
}

TEST(task, ten_million_completed_children_do_not_grow_the_stack) {
    constexpr int n = 10'000'000;
    EXPECT_EQ(corio::run(sum_of_children(n)), static_cast<long>(n) * (n - 1) / 2);
}

TEST(task, exception_from_destructor_of_awaited_frame_propagates) {
    struct throws_on_exit {
        ~throws_on_exit() noexcept(false) { throw std::logic_error("from destructor"); }
    };
    auto child = []() -> corio::task<> {
        throws_on_exit guard;
        co_await corio::yield();
    };
    EXPECT_THROW(corio::run(child()), std::logic_error);
}

TEST(run, nested_run_is_rejected) {
    EXPECT_THROW(corio::run([]() -> corio::task<> {
                     corio::run(value_of(1));
                     co_return;
                 }()),
                 corio::error);
}

TEST(run, cancels_and_awaits_leftover_tasks_on_exit) {
    bool cleaned_up = false;
    auto background = [&]() -> corio::task<> {
        try {
            co_await corio::sleep(1h);
        } catch (const corio::cancelled_error&) {
            cleaned_up = true;
            throw;
        }
    };
    corio::run([&]() -> corio::task<> {
        corio::spawn(background(), "background");
        co_await corio::yield();
    }());
    EXPECT_TRUE(cleaned_up);
}

TEST(spawn, outside_a_loop_throws) { EXPECT_THROW(corio::spawn(value_of(1)), corio::error); }

TEST(spawn, handle_reports_value_name_and_done) {
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn(value_of(5), "five");
        EXPECT_EQ(h.name(), "five");
        EXPECT_FALSE(h.done());
        EXPECT_THROW(h.result(), corio::error);
        EXPECT_EQ(co_await h, 5);
        EXPECT_TRUE(h.done());
        EXPECT_FALSE(h.cancelled());
        EXPECT_EQ(h.result(), 5);
        EXPECT_EQ(h.exception(), nullptr);
        EXPECT_EQ(co_await h, 5);  // a copyable result can be read again
    }());
}

TEST(spawn, an_empty_handle_or_task_throws_instead_of_crashing) {
    corio::run([]() -> corio::task<> {
        corio::join_handle<int> empty;
        EXPECT_THROW(co_await empty, corio::error);
        EXPECT_THROW(empty.result(), corio::error);
        auto h = corio::spawn(value_of(1));
        auto moved = std::move(h);
        EXPECT_THROW(co_await h, corio::error);  // NOLINT(bugprone-use-after-move): the point
        EXPECT_EQ(co_await moved, 1);
        corio::task<int> nothing;
        EXPECT_THROW(co_await std::move(nothing), corio::error);
    }());
}

TEST(spawn, a_move_only_result_is_read_once) {
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn([]() -> corio::task<std::unique_ptr<int>> { co_return std::make_unique<int>(3); });
        auto first = co_await h;
        CO_ASSERT_TRUE(first != nullptr);
        EXPECT_EQ(*first, 3);
        try {
            co_await h;  // not a moved-from (null) value
            ADD_FAILURE() << "a second read of a move-only result did not throw";
        } catch (const corio::error& e) {
            EXPECT_NE(std::string(e.what()).find("already taken"), std::string::npos) << e.what();
        }
        EXPECT_THROW(h.result(), corio::error);
    }());
}

TEST(spawn, error_is_rethrown_to_every_reader) {
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn(fail_with("bad"), "failing");
        EXPECT_THROW(co_await h, std::runtime_error);
        EXPECT_NE(h.exception(), nullptr);
        EXPECT_THROW(h.result(), std::runtime_error);
    }());
}

TEST(spawn, dropping_the_handle_does_not_cancel) {
    bool finished = false;
    corio::run([&]() -> corio::task<> {
        corio::spawn([&finished]() -> corio::task<> {
            co_await corio::sleep(10ms);
            finished = true;
        });
        co_await corio::sleep(20ms);
    }(), {.virtual_time = true});
    EXPECT_TRUE(finished);
}

TEST(spawn, unretrieved_error_is_logged_with_task_name) {
    std::string logged;
    auto previous = corio::set_error_logger([&](std::string_view m) { logged += m; });
    corio::run([]() -> corio::task<> {
        corio::spawn(fail_with("lost error"), "forgotten");
        co_await corio::sleep(1ms);
    }());
    corio::set_error_logger(previous);
    EXPECT_NE(logged.find("forgotten"), std::string::npos) << logged;
    EXPECT_NE(logged.find("lost error"), std::string::npos) << logged;
}

TEST(spawn, done_callback_runs_after_completion) {
    corio::run([]() -> corio::task<> {
        int seen = 0;
        auto h = corio::spawn(value_of(9), "nine");
        h.add_done_callback([&](const corio::join_handle<int>& done) { seen = done.result(); });
        co_await h;
        co_await corio::yield();
        EXPECT_EQ(seen, 9);
        bool late = false;  // added after completion: still called, soon
        h.add_done_callback([&](const corio::join_handle<int>&) { late = true; });
        co_await corio::yield();
        EXPECT_TRUE(late);
    }());
}

// Frames and task states come from the pool in blocks of 16k + 8 bytes: glibc rounds a chunk to
// 16 bytes including its 8-byte header, so such a block fills its chunk with nothing wasted (a
// 16k-byte block would cost 16k + 16). Every request of a class fits its class's block.
TEST(frame_pool, blocks_fill_their_malloc_chunk_and_fit_every_size_of_their_class) {
    if (!CORIO_FRAME_POOL) GTEST_SKIP() << "the pool is bypassed in this build (AddressSanitizer)";
    using corio::detail::frame_block_size, corio::detail::frame_class;
    for (std::size_t size = 9; frame_class(size) < corio::detail::frame_classes; ++size) {
        const std::size_t block = frame_block_size(frame_class(size));
        ASSERT_GE(block, size);
        ASSERT_LT(block, size + corio::detail::frame_granule);
        void* p = corio::detail::allocate_frame(size);
        ASSERT_EQ(malloc_usable_size(p), block) << "request of " << size;
        std::memset(p, 0xab, block);
        corio::detail::deallocate_frame(p, size);
        void* q = corio::detail::allocate_frame(block);  // the class's largest request
        std::memset(q, 0xcd, block);
        corio::detail::deallocate_frame(q, block);
    }
}

}  // namespace
