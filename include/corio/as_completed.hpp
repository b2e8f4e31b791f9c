// corio/as_completed.hpp — as_completed(tasks): outcomes in the order tasks finish.
//
// snippet: examples/combinators.cpp#as_completed
//   auto results = corio::as_completed(std::move(calls));
//   while (auto o = co_await results.next()) {  // outcome<T>s in the order the tasks finish
//       if (o->has_value()) finished.push_back(o->value());
//       else std::printf("failed: %s\n", corio::describe(o->error()).c_str());
//   }
//
// Every task starts as its own child task when the generator is first advanced; each next()
// yields the outcome<T> of the next one to finish (value or error; never throws for a child's
// error). Stopping early, or destroying the generator, cancels the tasks not yet reported; they
// finish their cleanup on the loop.
//
// Cancel safety of next(): cancelling the consumer while it waits (a wait_for around next()
// that expires, say) throws cancelled_error (or the timeout) out of that next() only; the
// generator lives on, and completions not yet reported stay queued for a later next() — as
// Tokio's JoinSet::join_next.
#pragma once

#include <deque>
#include <vector>

#include "corio/async_generator.hpp"
#include "corio/detail/child_group.hpp"
#include "corio/gather.hpp"
#include "corio/outcome.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {
/// Queues children in the order they finish.
template <class T>
class completion_queue final : public child_group {
public:
    std::deque<join_handle<T>> finished;  // not yet reported, oldest first

private:
    void on_child_done(task_state& child) noexcept override {
        child.add_ref();
        finished.emplace_back(&child);  // adopts the reference
    }
};
}  // namespace detail

template <class T>
async_generator<outcome<T>> as_completed(std::vector<task<T>> tasks) {
    detail::completion_queue<T> group;
    for (auto& t : tasks) group.spawn(std::move(t));
    for (;;) {
        if (!group.finished.empty()) {
            join_handle<T> done = std::move(group.finished.front());
            group.finished.pop_front();
            co_yield detail::take_outcome(done);
        } else if (group.active() == 0) {
            co_return;
        } else {
            std::exception_ptr interrupted;
            try {
                co_await group.next_completion();
            } catch (const cancelled_error&) {
                interrupted = std::current_exception();
            }
            if (interrupted) co_yield yield_exception(std::move(interrupted));  // and carry on
        }
    }
}

}  // namespace corio
