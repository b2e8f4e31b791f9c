// Implementation of corio/timeout_scope.hpp.
#include "corio/timeout_scope.hpp"

#include <algorithm>

#include "corio/event_loop.hpp"

namespace corio {

void timeout_scope::enter(detail::task_state& task) {
    loop_ = &task.loop();
    scope_.set_deadline(deadline_);
    scope_.enter(task);
    loop_->add_timer(*this, deadline_);
}

void timeout_scope::leave() noexcept {
    if (loop_ == nullptr) return;
    if (queued()) loop_->remove_timer(*this);
    scope_.exit();
    loop_ = nullptr;
}

void timeout_scope::reschedule(clock::time_point deadline) {
    if (expired_) return;
    deadline_ = deadline;
    scope_.set_deadline(deadline);
    if (loop_ == nullptr) return;  // not entered yet: enter() arms it
    if (queued()) loop_->remove_timer(*this);
    loop_->add_timer(*this, deadline);
}

void timeout_scope::fire(detail::timer_node& node) noexcept {
    auto& self = static_cast<timeout_scope&>(node);
    self.expired_ = true;
    self.scope_.expire();
}

std::optional<clock::time_point> current_deadline() noexcept {
    const detail::task_state* task = detail::current_task;
    if (task == nullptr) return std::nullopt;
    clock::time_point nearest = clock::time_point::max();
    for (const detail::cancel_scope* s = task->innermost_scope(); s != nullptr; s = s->parent()) {
        nearest = std::min(nearest, s->deadline());
        if (s->shields()) break;  // deadlines outside a shield do not reach in
    }
    if (nearest == clock::time_point::max()) return std::nullopt;
    return nearest;
}

}  // namespace corio
