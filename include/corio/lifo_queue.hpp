// corio/lifo_queue.hpp — corio::lifo_queue<T>: a bounded last-in, first-out channel between
// tasks of one loop (asyncio.LifoQueue with a maxsize, plus close()).
//
// snippet: examples/primitives.cpp#lifo_queue
//   corio::lifo_queue<std::string> undo(16);  // queue's API; the newest item comes out first
//   co_await undo.push("type a");
//   co_await undo.push("type b");
//   std::string last = co_await undo.pop();  // "type b"
//
// The same API and guarantees as corio::queue (queue.hpp: capacity, push/push_from/pop,
// try_push/try_pop, close(), hand-off, cancel safety, what it throws, thread-safety), except the
// order of the items: pop() takes the item pushed most recently. Waiting pushers and poppers
// are still served FIFO (the task that waited longest goes first). A pop that frees space while
// a pusher waits takes the top item first, then that pusher's item goes on top.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "corio/queue.hpp"

namespace corio {

namespace detail {
/// basic_queue's Store for last-in, first-out: a stack (see fifo_store).
template <class T>
class lifo_store {
public:
    void push(T&& item) { items_.push_back(std::move(item)); }
    T take() {
        T top(std::move(items_.back()));
        items_.pop_back();
        return top;
    }
    std::size_t size() const noexcept { return items_.size(); }

private:
    std::vector<T> items_;  // the top of the stack is back()
};
}  // namespace detail

/// Last in, first out (asyncio.LifoQueue).
template <class T>
class lifo_queue : public basic_queue<T, detail::lifo_store<T>> {
public:
    using basic_queue<T, detail::lifo_store<T>>::basic_queue;
};

}  // namespace corio
