// Synchronization between the tasks of one loop: event, mutex, condition, rwlock, barrier,
// semaphore, bounded_semaphore, queue, lifo_queue, priority_queue, rate_limiter, resource_pool.
// The regions between snippet markers are the examples the headers in include/corio/ show
// (scripts/readme_snippets.py keeps them identical).
#include <corio/corio.hpp>
#include <corio/barrier.hpp>
#include <corio/bounded_semaphore.hpp>
#include <corio/condition.hpp>
#include <corio/lifo_queue.hpp>
#include <corio/priority_queue.hpp>
#include <corio/rwlock.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

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

corio::task<> condition_example() {
    // [snippet condition]
    corio::mutex m;
    corio::condition changed(m);  // bound to m, which must outlive it
    std::vector<std::string> inbox;
    auto reader = corio::spawn([&]() -> corio::task<std::string> {
        auto has_mail = [&] { return !inbox.empty(); };
        auto lock = co_await m.lock();
        co_await changed.wait(lock, has_mail);  // unlocks m while waiting, until has_mail()
        co_return inbox.front();                // m is held again here
    });
    co_await corio::yield();  // (let it start waiting)
    {
        auto lock = co_await m.lock();
        inbox.push_back("hello");
        changed.notify_one();  // or notify_all(); waiters wake in the order they began waiting
    }
    std::string first = co_await reader;
    // [end snippet]
    check(first == "hello" && !m.locked(), "condition: the waiter saw the change, under the mutex");
}

corio::task<> rwlock_example() {
    std::size_t readers_at_once = 0;
    bool free_at_end = false;
    // [snippet rwlock]
    corio::rwlock config_lock;
    {
        auto a = co_await config_lock.lock_shared();  // readers share the lock...
        auto b = co_await config_lock.lock_shared();
        readers_at_once = config_lock.readers();
    }
    {
        auto w = co_await config_lock.lock();  // ...a writer holds it alone; once a writer
        co_await corio::sleep(1ms);            // waits, later readers queue behind it
    }
    if (auto r = config_lock.try_lock_shared()) free_at_end = true;  // never waits; empty guard if not free
    // [end snippet]
    check(readers_at_once == 2 && free_at_end, "rwlock: two readers at once, then a writer alone");
}

corio::task<> barrier_example() {
    std::vector<std::size_t> indices;
    // [snippet barrier]
    corio::barrier ready(3);  // trips when 3 tasks wait; then the next cycle begins
    auto worker = [&]() -> corio::task<> {
        std::size_t index = co_await ready.wait();  // 0, 1, 2: the arrival order
        indices.push_back(index);
    };
    auto a = corio::spawn(worker());
    auto b = corio::spawn(worker());
    co_await worker();  // the third arrival: trips it without waiting
    co_await a;
    co_await b;
    // [end snippet]
    check(indices == std::vector<std::size_t>{2, 0, 1} && ready.n_waiting() == 0,
          "barrier: three arrivals, indices in arrival order");
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

corio::task<> bounded_semaphore_example() {
    bool refused = false;
    // [snippet bounded_semaphore]
    corio::bounded_semaphore slots(2);
    (co_await slots.acquire()).detach();  // a unit taken for good...
    slots.release();                      // ...given back by hand
    try {
        slots.release();  // no unit out: the count would exceed 2
    } catch (const corio::semaphore_overflow_error&) {
        refused = true;
    }
    // [end snippet]
    check(refused && slots.available() == 2, "bounded_semaphore: release() beyond the initial value throws");
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

corio::task<> lifo_queue_example() {
    // [snippet lifo_queue]
    corio::lifo_queue<std::string> undo(16);  // queue's API; the newest item comes out first
    co_await undo.push("type a");
    co_await undo.push("type b");
    std::string last = co_await undo.pop();  // "type b"
    // [end snippet]
    check(last == "type b" && undo.size() == 1, "lifo_queue: last in, first out");
}

corio::task<> priority_queue_example() {
    // [snippet priority_queue]
    // Smallest first (unlike std::priority_queue; std::greater gives largest first); equal
    // priorities come out in the order they went in.
    corio::priority_queue<std::pair<int, std::string>> jobs(16);
    co_await jobs.push({2, "reindex"});
    co_await jobs.push({1, "page the on-call"});
    co_await jobs.push({2, "rotate logs"});
    auto [priority, job] = co_await jobs.pop();  // 1, "page the on-call"
    // [end snippet]
    check(priority == 1 && job == "page the on-call" && jobs.size() == 2, "priority_queue: smallest first");
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
    co_await condition_example();
    co_await rwlock_example();
    co_await barrier_example();
    co_await semaphore_example();
    co_await bounded_semaphore_example();
    co_await queue_example();
    co_await lifo_queue_example();
    co_await priority_queue_example();
    co_await rate_limiter_example();
    co_await resource_pool_example();
}

int main() { corio::run(primitives()); }
