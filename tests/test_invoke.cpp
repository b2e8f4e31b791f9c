// corio::invoke and the spawn(callable, args...) forms: a lambda with captures, passed without
// call parentheses, lives as long as the work it started. And the mistake they replace — a
// capturing lambda CALLED in place — caught by AddressSanitizer (in the sanitizer build).
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>

#include <memory>
#include <string>
#include <type_traits>

using namespace std::chrono_literals;
using corio_test::run_virtual;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORIO_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CORIO_TEST_ASAN 1
#endif

namespace {

TEST(invoke, keeps_the_callable_and_its_arguments_in_the_frame) {
    run_virtual([]() -> corio::task<> {
        auto make = [] {
            const std::string prefix(64, 'p');  // a heap string: a dangling copy would show
            return corio::invoke([prefix](std::string suffix, int times) -> corio::task<std::string> {
                co_await corio::sleep(1s);  // the closure and the arguments must survive this
                std::string out;
                for (int i = 0; i < times; ++i) out += prefix + suffix;
                co_return out;
            }, std::string(32, 's'), 2);
        };
        auto t = make();  // the lambda object, `prefix` and the arguments are gone from here
        EXPECT_EQ(co_await std::move(t), std::string(64, 'p') + std::string(32, 's') + std::string(64, 'p') + std::string(32, 's'));
    });
}

TEST(invoke, move_only_arguments_are_moved_in) {
    run_virtual([]() -> corio::task<> {
        auto t = corio::invoke([](std::unique_ptr<int> p) -> corio::task<int> { co_return *p; }, std::make_unique<int>(7));
        EXPECT_EQ(co_await std::move(t), 7);
    });
}

TEST(spawn, a_capturing_lambda_passed_without_parentheses_is_safe) {
    run_virtual([]() -> corio::task<> {
        int total = 0;
        const std::string word(48, 'w');
        // The lambda is a temporary of this statement; spawn keeps it in the task's frame.
        auto h = corio::spawn([&total, word](int add) -> corio::task<std::size_t> {
            co_await corio::sleep(1s);
            total += add;
            co_return word.size();
        }, 5);
        EXPECT_EQ(co_await h, 48u);
        EXPECT_EQ(total, 5);
    });
}

TEST(task_group, spawns_capturing_lambdas_safely) {
    run_virtual([]() -> corio::task<> {
        int total = 0;
        co_await corio::with_task_group([&total](corio::task_group& tg) -> corio::task<> {
            for (int i = 1; i <= 3; ++i) {
                const std::string label(40, static_cast<char>('a' + i));
                tg.spawn([&total, i, label]() -> corio::task<> {
                    co_await corio::sleep(std::chrono::seconds(i));
                    total += i * static_cast<int>(label.size());
                });
            }
            co_return;
        });
        EXPECT_EQ(total, (1 + 2 + 3) * 40);
    });
}

TEST(task_set, spawns_capturing_lambdas_safely) {
    run_virtual([]() -> corio::task<> {
        corio::task_set background;
        int done = 0;
        background.spawn([&done, note = std::string(40, 'n')]() -> corio::task<> {
            co_await corio::sleep(1s);
            done += static_cast<int>(note.size());
        });
        co_await background.join_all();
        EXPECT_EQ(done, 40);
    });
}

TEST(task_group, has_no_public_constructor) {
    // A group nobody joins would drop its children's errors: only with_task_group makes one.
    static_assert(!std::is_default_constructible_v<corio::task_group>);
    static_assert(!std::is_copy_constructible_v<corio::task_group>);
}

/// The mistake owning spawn replaces: a coroutine lambda called in place runs from a closure
/// that dies at the end of the statement, while the task it started still reads the capture.
/// The closure lives on the heap here so that its death is a free ASan always sees (a dead stack
/// temporary is not always poisoned).
[[maybe_unused]] void spawn_a_lambda_called_in_place() {
    corio::event_loop loop;
    auto body = [word = std::string(64, 'x')]() -> corio::task<std::size_t> {
        co_await corio::sleep(1ms);
        co_return word.size();  // reads the closure, dead since before the loop ran
    };
    auto closure = std::make_unique<decltype(body)>(std::move(body));
    auto h = corio::spawn((*closure)());  // BAD: the task does not own the closure
    closure.reset();                      // what the end of `spawn([..]{..}())` does
    loop.run_until_done(h.state());
    std::printf("%zu\n", h.result());
}

TEST(lifetime, a_capturing_lambda_called_in_place_is_caught_by_asan) {
#ifndef CORIO_TEST_ASAN
    GTEST_SKIP() << "needs the AddressSanitizer build (./run.sh sanitize)";
#else
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(spawn_a_lambda_called_in_place(), "AddressSanitizer: heap-use-after-free");
#endif
}

}  // namespace
