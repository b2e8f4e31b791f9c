#include "corio/rate_limiter.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <stdexcept>

#include "corio/error.hpp"
#include "corio/event_loop.hpp"

namespace corio {

namespace detail {

token_waiter::~token_waiter() {
    if (linked()) limiter_.leave(*this);  // the suspended frame is being destroyed
}

bool token_waiter::await_ready() noexcept { return limiter_.try_acquire(); }

bool token_waiter::await_suspend(std::coroutine_handle<> h) {
    task_ = current_task;
    limiter_.enqueue(*this, task_->loop());
    if (task_->suspend(h, this)) return true;
    limiter_.leave(*this);
    cancelled_ = true;
    return false;
}

void token_waiter::await_resume() const {
    if (cancelled_) throw cancelled_error("rate_limiter::acquire cancelled");
}

void token_waiter::on_cancel() noexcept {
    limiter_.leave(*this);
    cancelled_ = true;
    task_->wake();
}

}  // namespace detail

rate_limiter::rate_limiter(double rate_per_second, std::size_t burst)
    : timer_node(&fire),
      rate_(rate_per_second),
      burst_(burst),
      tokens_(static_cast<double>(burst)),
      updated_(clock::now()) {
    if (!(std::isfinite(rate_) && rate_ > 0.0))
        throw std::invalid_argument(
            "corio::rate_limiter: rate_per_second must be positive and finite");
    if (burst_ == 0) throw std::invalid_argument("corio::rate_limiter: burst must be at least 1");
}

rate_limiter::~rate_limiter() {
    assert(waiters_.empty() && "corio::rate_limiter destroyed while tasks wait on it");
}

bool rate_limiter::try_acquire() noexcept {
    if (!waiters_.empty()) return false;  // FIFO: never overtake a waiter
    refill(clock::now());
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
}

void rate_limiter::refill(clock::time_point now) noexcept {
    // Time never runs backwards within one loop; across loops (real vs virtual) it may.
    const auto elapsed = std::max(now - updated_, clock::duration::zero());
    tokens_ = std::min(static_cast<double>(burst_),
                       tokens_ + static_cast<double>(elapsed.count()) * rate_ / 1e9);
    updated_ = now;
}

clock::time_point rate_limiter::next_token_time() const noexcept {
    constexpr double longest_wait_ns = 1e18;  // ~31 years: keeps tiny rates from overflowing
    const double wait_ns = std::ceil((1.0 - tokens_) * 1e9 / rate_);
    return updated_ + clock::duration(static_cast<clock::rep>(
                          std::clamp(wait_ns, 0.0, longest_wait_ns)));
}

void rate_limiter::enqueue(detail::token_waiter& w, event_loop& loop) {
    waiters_.push_back(w);
    if (queued()) return;  // a head is already waiting: its timer stands
    try {
        loop.add_timer(*this, next_token_time());  // tokens_ is current: await_ready refilled
    } catch (...) {
        w.unlink();
        throw;
    }
    loop_ = &loop;
}

void rate_limiter::leave(detail::token_waiter& w) noexcept {
    w.unlink();
    // The timer stays for the next waiter: a token is due at the same moment whoever waits.
    if (waiters_.empty() && queued()) loop_->remove_timer(*this);
}

void rate_limiter::fire(timer_node& node) noexcept {
    auto& self = static_cast<rate_limiter&>(node);
    self.refill(clock::now());
    // The timer was set for when the head's token is due: absorb floating-point rounding.
    self.tokens_ = std::max(self.tokens_, 1.0);
    while (!self.waiters_.empty() && self.tokens_ >= 1.0) {
        self.tokens_ -= 1.0;
        self.waiters_.pop_front()->grant();
    }
    // Re-inserting the node that just left the heap needs no allocation: cannot throw.
    if (!self.waiters_.empty()) self.loop_->add_timer(self, self.next_token_time());
}

}  // namespace corio
