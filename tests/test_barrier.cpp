// corio::barrier: tripping when every party arrived, arrival indices, reuse across cycles,
// withdrawal of a cancelled or timed-out arrival, result-wins after a trip.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/barrier.hpp>
#include <corio/corio.hpp>

#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

using corio_test::run_virtual;

namespace {

/// Arrives after `delay`; records the arrival index at `slot`.
corio::task<> arrive(corio::barrier& b, std::chrono::nanoseconds delay, std::size_t& slot) {
    co_await corio::sleep(delay);
    slot = co_await b.wait();
}

TEST(barrier, zero_parties_are_rejected_and_one_party_never_waits) {
    EXPECT_THROW(corio::barrier(0), std::invalid_argument);
    run_virtual([]() -> corio::task<> {
        corio::barrier alone(1);
        EXPECT_EQ(co_await alone.wait(), 0u);
        EXPECT_EQ(co_await alone.wait(), 0u);
        EXPECT_EQ(alone.parties(), 1u);
    }());
}

TEST(barrier, trips_when_the_last_party_arrives_with_indices_in_arrival_order) {
    run_virtual([]() -> corio::task<> {
        corio::barrier b(3);
        std::vector<std::size_t> index(3, 99);
        const auto start = corio::clock::now();
        auto late = corio::spawn(arrive(b, 3s, index[0]));
        auto early = corio::spawn(arrive(b, 1s, index[1]));
        auto middle = corio::spawn(arrive(b, 2s, index[2]));
        co_await corio::sleep(2500ms);
        EXPECT_EQ(b.n_waiting(), 2u);
        EXPECT_FALSE(early.done());
        co_await late;
        co_await early;
        co_await middle;
        EXPECT_EQ(corio::clock::now() - start, 3s);  // everyone left when the last arrived
        EXPECT_EQ(index, (std::vector<std::size_t>{2, 0, 1}));
        EXPECT_EQ(b.n_waiting(), 0u);
    }());
}

TEST(barrier, is_reusable_cycle_after_cycle) {
    run_virtual([]() -> corio::task<> {
        corio::barrier b(2);
        std::vector<std::size_t> seen;
        auto party = [&](std::chrono::milliseconds step) -> corio::task<> {
            for (int cycle = 0; cycle < 3; ++cycle) {
                co_await corio::sleep(step);
                seen.push_back(co_await b.wait());
            }
        };
        const auto start = corio::clock::now();
        auto fast = corio::spawn(party(10ms));
        auto slow = corio::spawn(party(30ms));
        co_await fast;
        co_await slow;
        EXPECT_EQ(corio::clock::now() - start, 90ms);  // the slow party sets the pace
        // Each cycle: the fast party arrived first (0), the slow one tripped it (1).
        EXPECT_EQ(seen, (std::vector<std::size_t>{1, 0, 1, 0, 1, 0}));
    }());
}

TEST(barrier, a_cancelled_arrival_is_withdrawn) {
    run_virtual([]() -> corio::task<> {
        corio::barrier b(3);
        std::size_t ia = 99, ib = 99, ic = 99, id = 99;
        auto a = corio::spawn(arrive(b, 0s, ia));
        auto bb = corio::spawn(arrive(b, 0s, ib));
        co_await corio::sleep(1s);
        EXPECT_EQ(b.n_waiting(), 2u);
        a.cancel();
        EXPECT_EQ(b.n_waiting(), 1u);  // withdrawn at once
        EXPECT_THROW(co_await a, corio::cancelled_error);
        auto c = corio::spawn(arrive(b, 0s, ic));
        co_await corio::sleep(1s);
        EXPECT_FALSE(c.done());  // two waiting: not tripped
        EXPECT_EQ(b.n_waiting(), 2u);
        co_await arrive(b, 0s, id);  // the third: trips it
        co_await bb;
        co_await c;
        EXPECT_EQ(ia, 99u);
        EXPECT_EQ(ib, 0u);  // the indices close the gap the withdrawn arrival left
        EXPECT_EQ(ic, 1u);
        EXPECT_EQ(id, 2u);
    }());
}

TEST(barrier, a_timed_out_arrival_is_withdrawn) {
    run_virtual([]() -> corio::task<> {
        corio::barrier b(2);
        const auto start = corio::clock::now();
        EXPECT_THROW(co_await corio::wait_for(b.wait(), 1s), corio::timeout_error);
        EXPECT_EQ(corio::clock::now() - start, 1s);
        EXPECT_EQ(b.n_waiting(), 0u);
        std::size_t first = 99;
        auto other = corio::spawn(arrive(b, 0s, first));
        co_await corio::sleep(1ms);  // (let it arrive first)
        EXPECT_EQ(co_await corio::wait_for(b.wait(), 1s), 1u);  // a fresh pair trips it
        co_await other;
        EXPECT_EQ(first, 0u);
    }());
}

TEST(barrier, tripped_then_cancelled_returns_its_index) {
    run_virtual([]() -> corio::task<> {
        corio::barrier b(2);
        std::size_t got = 99;
        auto waiter = corio::spawn([&]() -> corio::task<> {
            got = co_await b.wait();  // tripped, then cancelled before resuming: the result wins
            co_await corio::yield();  // level-triggered: throws here
            ADD_FAILURE() << "cancellation was lost";
        });
        co_await corio::yield();
        EXPECT_EQ(co_await b.wait(), 1u);
        waiter.cancel();
        EXPECT_THROW(co_await waiter, corio::cancelled_error);
        EXPECT_EQ(got, 0u);
        EXPECT_EQ(b.n_waiting(), 0u);  // the cycle stayed tripped
    }());
}

}  // namespace
