// corio::signal_receiver with real signals (::raise, ::kill from other threads): delivery,
// queued and counted deliveries, dispositions restored, SIGINT taken from corio::run's
// cancellation, cancellation of next(), one receiver per signal, several loops.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/signals.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

using handler_t = void (*)(int);

handler_t current_handler(int signo) {
    struct sigaction sa {};
    ::sigaction(signo, nullptr, &sa);
    return sa.sa_handler;
}

/// Sets `signo`'s handler for the scope, then puts back the one before.
class scoped_handler {
public:
    scoped_handler(int signo, handler_t handler) : signo_(signo) {
        struct sigaction sa {};
        sa.sa_handler = handler;
        sigemptyset(&sa.sa_mask);
        ::sigaction(signo_, &sa, &previous_);
    }
    ~scoped_handler() { ::sigaction(signo_, &previous_, nullptr); }

private:
    int signo_;
    struct sigaction previous_ {};
};

volatile std::sig_atomic_t usr2_caught = 0;
extern "C" void count_usr2(int) { usr2_caught = usr2_caught + 1; }

TEST(signals, a_raised_signal_is_received) {
    const int got = corio::run([]() -> corio::task<int> {
        auto signals = corio::open_signals({SIGUSR1});
        ::raise(SIGUSR1);
        co_return co_await corio::wait_for(signals.next(), 5s);
    }());
    EXPECT_EQ(got, SIGUSR1);
}

TEST(signals, previous_dispositions_come_back_when_the_receiver_is_destroyed) {
    usr2_caught = 0;
    scoped_handler usr2(SIGUSR2, count_usr2);
    scoped_handler hup(SIGHUP, SIG_IGN);
    corio::run([]() -> corio::task<> {
        {
            auto signals = corio::open_signals({SIGUSR2, SIGHUP});
            EXPECT_NE(current_handler(SIGUSR2), count_usr2);
            EXPECT_NE(current_handler(SIGHUP), SIG_IGN);
            ::raise(SIGUSR2);
            const int got = co_await corio::wait_for(signals.next(), 5s);
            EXPECT_EQ(got, SIGUSR2);
            EXPECT_EQ(usr2_caught, 0);  // the receiver had it, not the previous handler
        }
        EXPECT_EQ(current_handler(SIGUSR2), count_usr2);
        EXPECT_EQ(current_handler(SIGHUP), SIG_IGN);
        ::raise(SIGUSR2);
        EXPECT_EQ(usr2_caught, 1);
    }());
}

TEST(signals, deliveries_while_nobody_waits_are_queued_counted_and_in_order) {
    corio::run([]() -> corio::task<> {
        auto signals = corio::open_signals({SIGUSR1, SIGUSR2});
        for (int i = 0; i < 3; ++i) ::raise(SIGUSR2);  // each runs the handler: counted, not merged
        co_await corio::yield();                       // (the loop takes them)
        ::raise(SIGUSR1);
        co_await corio::yield();
        ::raise(SIGUSR2);
        co_await corio::yield();
        EXPECT_EQ(signals.pending(), 5u);
        std::vector<int> got;
        for (int i = 0; i < 5; ++i) {
            const int signo = co_await corio::wait_for(signals.next(), 5s);
            got.push_back(signo);
        }
        EXPECT_EQ(got, (std::vector<int>{SIGUSR2, SIGUSR2, SIGUSR2, SIGUSR1, SIGUSR2}));
        EXPECT_EQ(signals.pending(), 0u);
    }());
}

TEST(signals, deliveries_of_one_signal_beyond_max_pending_are_dropped) {
    corio::run([]() -> corio::task<> {
        auto signals = corio::open_signals({SIGUSR1});
        for (std::uint32_t i = 0; i < corio::signal_receiver::max_pending + 5; ++i) ::raise(SIGUSR1);
        co_await corio::yield();
        EXPECT_EQ(signals.pending(), corio::signal_receiver::max_pending);
        const int first = co_await signals.next();
        EXPECT_EQ(first, SIGUSR1);
        ::raise(SIGUSR1);  // room for one again
        co_await corio::yield();
        EXPECT_EQ(signals.pending(), corio::signal_receiver::max_pending);
    }());
}

TEST(signals, sigint_received_explicitly_does_not_cancel_the_main_task) {
    const handler_t before = current_handler(SIGINT);
    bool received = false;
    bool cancelled_after = false;
    EXPECT_THROW(corio::run([&]() -> corio::task<> {
        {
            auto signals = corio::open_signals({SIGINT});
            ::raise(SIGINT);
            const int got = co_await corio::wait_for(signals.next(), 5s);
            received = got == SIGINT;
            co_await corio::sleep(5ms);  // not cancelled: the receiver took SIGINT
        }
        // The receiver is gone: SIGINT cancels the main task again, as corio::run does.
        try {
            ::raise(SIGINT);
            co_await corio::sleep(10s);
        } catch (const corio::cancelled_error&) {
            cancelled_after = true;
            throw;
        }
    }()), corio::cancelled_error);
    EXPECT_TRUE(received);
    EXPECT_TRUE(cancelled_after);
    EXPECT_EQ(current_handler(SIGINT), before);  // run() gave it back too
}

TEST(signals, kill_from_another_thread_wakes_a_task_waiting_in_virtual_time) {
    corio_test::run_virtual([]() -> corio::task<> {
        auto signals = corio::open_signals({SIGUSR1});
        std::thread sender([] {
            std::this_thread::sleep_for(20ms);
            ::kill(::getpid(), SIGUSR1);
        });
        // A wait for a signal is external work: virtual time does not jump past the 1 h limit.
        const auto waited = corio::clock::now();
        int got = 0;
        try {
            got = co_await corio::wait_for(signals.next(), 1h);
        } catch (...) {
            sender.join();
            throw;
        }
        sender.join();
        EXPECT_EQ(got, SIGUSR1);
        EXPECT_LT(corio::clock::now() - waited, 1h);
    });
}

TEST(signals, a_cancelled_next_loses_no_signal) {
    corio::run([]() -> corio::task<> {
        auto signals = corio::open_signals({SIGUSR1});
        auto waiter = corio::spawn(signals.next());
        co_await corio::yield();  // (let it wait)
        std::ostringstream dump;
        corio::dump_tasks(dump);
        EXPECT_NE(dump.str().find("waiting for a signal: SIGUSR1"), std::string::npos) << dump.str();
        waiter.cancel();
        EXPECT_THROW(co_await waiter, corio::cancelled_error);
        EXPECT_THROW(co_await corio::wait_for(signals.next(), 5ms), corio::timeout_error);
        ::raise(SIGUSR1);  // after both cancellations: kept for the next next()
        co_await corio::yield();
        EXPECT_EQ(signals.pending(), 1u);
        const int got = co_await corio::wait_for(signals.next(), 5s);
        EXPECT_EQ(got, SIGUSR1);
    }());
}

TEST(signals, a_signal_handed_over_before_the_cancellation_is_returned) {
    corio::run([]() -> corio::task<> {
        auto signals = corio::open_signals({SIGUSR1});
        auto waiter = corio::spawn(signals.next());
        co_await corio::yield();  // (let it wait)
        // Resumed by a call_soon callback, this task runs before the waiter the signal wakes
        // later in the same iteration: it cancels a wait that was already granted.
        corio::event go;
        ::raise(SIGUSR1);
        corio::current_loop("test").call_soon([&go] { go.set(); });
        co_await go.wait();
        waiter.cancel();
        const int got = co_await waiter;  // result wins
        EXPECT_EQ(got, SIGUSR1);
        EXPECT_EQ(signals.pending(), 0u);
    }());
}

TEST(signals, a_signal_has_one_receiver_at_a_time) {
    corio::run([]() -> corio::task<> {
        auto usr1 = corio::open_signals({SIGUSR1});
        try {
            auto both = corio::open_signals({SIGUSR2, SIGUSR1});
            ADD_FAILURE() << "a second receiver for SIGUSR1 was opened";
        } catch (const corio::signal_error& e) {
            EXPECT_NE(std::string(e.what()).find("SIGUSR1 is already received by another signal_receiver"), std::string::npos)
                << e.what();
        }
        auto usr2 = corio::open_signals({SIGUSR2});  // the failed open took nothing
        EXPECT_EQ(usr2.signals(), std::vector<int>{SIGUSR2});
        EXPECT_THROW(corio::open_signals({SIGKILL}), corio::signal_error);
        for (const int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL})
            EXPECT_THROW(corio::open_signals({SIGHUP, fault}), corio::signal_error) << fault;
        { auto hup = corio::open_signals({SIGHUP}); }  // the refused opens took nothing
        EXPECT_THROW(corio::open_signals({}), corio::signal_error);
        auto duplicates = corio::open_signals({SIGHUP, SIGHUP});
        EXPECT_EQ(duplicates.signals(), std::vector<int>{SIGHUP});
        co_return;
    }());
    // All given back: each may be opened again.
    corio::run([]() -> corio::task<> {
        auto again = corio::open_signals({SIGUSR1, SIGUSR2, SIGHUP});
        co_return;
    }());
}

TEST(signals, receivers_on_two_loops_each_get_their_signal) {
    std::atomic<bool> ready{false};
    int other_got = 0;
    std::thread other([&] {
        other_got = corio::run([&]() -> corio::task<int> {
            auto signals = corio::open_signals({SIGUSR1});
            ready.store(true);
            co_return co_await corio::wait_for(signals.next(), 5s);
        }());
    });
    const int got = corio::run([&]() -> corio::task<int> {
        auto signals = corio::open_signals({SIGUSR2});
        while (!ready.load()) co_await corio::sleep(1ms);
        ::kill(::getpid(), SIGUSR1);  // to the other loop, whichever thread the kernel picks
        ::kill(::getpid(), SIGUSR2);
        co_return co_await corio::wait_for(signals.next(), 5s);
    }());
    other.join();
    EXPECT_EQ(got, SIGUSR2);
    EXPECT_EQ(other_got, SIGUSR1);
}

TEST(signals, a_receiver_outliving_its_loop_gives_its_signals_back_when_the_loop_ends) {
    scoped_handler usr2(SIGUSR2, count_usr2);
    std::optional<corio::signal_receiver> kept;
    corio::run([&]() -> corio::task<> {
        kept.emplace(corio::open_signals({SIGUSR2}));
        co_return;
    }());
    EXPECT_EQ(current_handler(SIGUSR2), count_usr2);
    EXPECT_THROW(corio::run([&]() -> corio::task<> {
        const int never = co_await kept->next();
        ADD_FAILURE() << never;
    }()), corio::error);
    kept.reset();
    EXPECT_EQ(current_handler(SIGUSR2), count_usr2);
}

TEST(signals, destroying_the_receiver_wakes_a_task_waiting_in_next_with_an_error) {
    corio::run([]() -> corio::task<> {
        std::optional<corio::signal_receiver> signals(corio::open_signals({SIGUSR1}));
        auto waiter = corio::spawn(signals->next());
        co_await corio::yield();  // (let it wait)
        signals.reset();
        try {
            const int never = co_await corio::wait_for(std::move(waiter), 5s);
            ADD_FAILURE() << "next() returned " << never;
        } catch (const corio::timeout_error&) {
            ADD_FAILURE() << "the waiter was not woken";
        } catch (const corio::error& e) {
            EXPECT_NE(std::string(e.what()).find("destroyed while a task waited"), std::string::npos) << e.what();
        }
    }());
}

TEST(signals, a_moved_from_receiver_throws) {
    corio::run([]() -> corio::task<> {
        auto signals = corio::open_signals({SIGUSR1});
        corio::signal_receiver moved = std::move(signals);
        EXPECT_THROW((void)signals.next(), corio::error);
        ::raise(SIGUSR1);
        const int got = co_await corio::wait_for(moved.next(), 5s);
        EXPECT_EQ(got, SIGUSR1);
    }());
}

}  // namespace
