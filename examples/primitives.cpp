// Synchronization between the tasks of one loop: event, mutex, semaphore, queue, rate_limiter,
// resource_pool.
// The regions between snippet markers are the examples the headers in include/corio/ show
// (scripts/readme_snippets.py keeps them identical).
#include <corio/corio.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

void check(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

corio::task<> event_example() {
    // [snippet event]
    corio::event ready;
    auto waiter = corio::spawn(ready.wait());  // a task waiting until someone calls set()
    co_await corio::yield();                   // (let it start waiting)
    ready.set();                               // wakes every task waiting now; later wait()s return at once
    co_await waiter;
    ready.clear();                             // later wait()s wait again
    // [end snippet]
    check(waiter.done() && !ready.is_set(), "event: set() woke the waiting task");
}

corio::task<> mutex_example() {
    bool locked_at_once = false;
    // [snippet mutex]
    corio::mutex m;
    {
        auto lock = co_await m.lock();  // mutex::guard: unlocks when it goes out of scope
        co_await corio::sleep(1ms);     // may suspend: other tasks run, but not in here
    }
    if (auto lock = m.try_lock()) locked_at_once = true;  // never waits; empty guard if locked
    // [end snippet]
    check(locked_at_once, "mutex: unlocked when the guard went out of scope");
}

corio::task<> semaphore_example() {
    // [snippet semaphore]
    corio::semaphore slots(3);
    {
        auto slot = co_await slots.acquire();  // semaphore::guard: releases when destroyed
        co_await corio::sleep(1ms);            // at most 3 tasks are in here at once
    }
    if (auto slot = slots.try_acquire()) slot.detach();  // never waits; detach: the unit stays taken
    slots.release();                                     // adds a unit (here: the detached one back)
    // [end snippet]
    check(slots.available() == 3, "semaphore: every unit back");
}

corio::task<> queue_example() {
    // [snippet queue]
    corio::queue<std::string> jobs(16);      // capacity >= 1
    co_await jobs.push("resize a.png");      // waits while the queue is full
    std::string next = co_await jobs.pop();  // waits while it is empty
    jobs.close();                            // no more pushes; consumers drain what is left
    // [end snippet]
    check(next == "resize a.png" && jobs.closed(), "queue: first in, first out; then closed");
}

corio::task<> rate_limiter_example() {
    int sent = 0;
    // [snippet rate_limiter]
    corio::rate_limiter limit(10.0, 5);  // 10 per second on average, up to 5 at once
    co_await limit.acquire();            // waits for a token (FIFO)
    if (limit.try_acquire()) ++sent;     // never waits
    // [end snippet]
    check(sent == 1, "rate_limiter: a full bucket gives tokens at once");
}

corio::task<std::string> open_resource() {
    co_await corio::sleep(1ms);  // connecting, say
    co_return std::string("a resource");
}

corio::task<> resource_pool_example() {
    std::size_t used = 0;
    // [snippet resource_pool]
    corio::resource_pool<std::string> pool({.open = open_resource}, {.max_size = 2}, "words");
    {
        auto lease = co_await pool.acquire();  // a resource, opened if none is idle
        used += lease->size();                 // at most 2 leases are out at once
    }                                          // back to the pool (or closed: below)
    // [end snippet]
    const auto stats = pool.stats();
    check(used == 10 && stats.idle == 1 && stats.opened == 1, "resource_pool: the resource came back, idle");
}

corio::task<> primitives() {
    co_await event_example();
    co_await mutex_example();
    co_await semaphore_example();
    co_await queue_example();
    co_await rate_limiter_example();
    co_await resource_pool_example();
}

int main() { corio::run(primitives()); }
