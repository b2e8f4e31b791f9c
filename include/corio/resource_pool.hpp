// corio/resource_pool.hpp — resource_pool<T>: a bounded pool of reusable resources (database
// connections, client sessions...) that a client library builds its own pool on (pg::pool does).
//
// snippet: examples/primitives.cpp#resource_pool
//   corio::resource_pool<std::string> pool({.open = open_resource}, {.max_size = 2}, "words");
//   {
//       auto lease = co_await pool.acquire();  // a resource, opened if none is idle
//       used += lease->size();                 // at most 2 leases are out at once
//   }                                          // back to the pool (or closed: below)
//
// What the pool promises:
// - At most max_size resources exist (idle, leased, or being opened); acquire() waits for one
//   in strict FIFO order, for at most acquire_timeout (timeout_error naming the pool's state:
//   "pool 'db': no resource within 5s (10 of 10 in use, 0 idle, 0 opening, 37 waiting)").
// - A resource handed out passed `check` (run on acquire; a failing or throwing check discards
//   it and the next idle one is tried, then a new one is opened in its place). The most recently
//   returned idle resource is handed out first, so spare ones age out.
// - A lease returns its resource when destroyed, unless it was discard()ed, `reusable` says no,
//   it is older than max_lifetime, or the pool closed: then it is closed instead. Idle resources
//   older than max_idle (or max_lifetime) are closed at the next acquire or release: the pool
//   does no work between calls. fill() opens resources up to min_size.
// - `close` runs exactly once for every resource `open` produced, whatever path it leaves by.
// Callbacks: open (required) produces a resource and should be bounded (a connect timeout);
// close must not block (schedule async clean-up elsewhere); a throwing close is logged.
// Cancel safety of acquire(): cancelled while waiting, nothing is taken; cancelled while a
// resource is opened or checked, that resource is closed. Either way the unit goes back.
// Throws: timeout_error, pool_closed_error, cancelled_error, and what open throws.
// Thread-safety: one loop's thread. The pool may be destroyed while leases are out: they close
// their resources when they end.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "corio/clock.hpp"
#include "corio/error.hpp"
#include "corio/log.hpp"
#include "corio/semaphore.hpp"
#include "corio/task.hpp"
#include "corio/wait_for.hpp"

namespace corio {

/// acquire() on a pool that was closed (or that closed while the caller waited).
class pool_closed_error : public error {
public:
    using error::error;
};

/// Trivially copyable: safe to write inline, even inside a co_await on g++ 12.
struct pool_options {
    std::size_t min_size = 0;   ///< opened by fill()
    std::size_t max_size = 10;  ///< > 0
    std::chrono::nanoseconds acquire_timeout = std::chrono::seconds(30);  ///< > 0
    std::chrono::nanoseconds max_lifetime = std::chrono::hours(1);        ///< 0: unlimited
    std::chrono::nanoseconds max_idle = std::chrono::minutes(10);         ///< 0: unlimited
};

struct pool_stats {
    std::size_t size = 0;     ///< resources that exist: idle + in_use + opening
    std::size_t idle = 0;
    std::size_t in_use = 0;   ///< leases out
    std::size_t opening = 0;
    std::size_t waiting = 0;  ///< acquire() calls waiting for a unit
    std::size_t max_size = 0;
    std::uint64_t acquired = 0;  ///< leases handed out
    std::uint64_t opened = 0;
    std::uint64_t closed = 0;
    std::uint64_t discarded = 0;  ///< closed because broken: check failed, discard(), reusable false
    std::uint64_t timeouts = 0;   ///< acquire() calls that gave up
};

template <class T>
struct pool_callbacks {
    std::function<task<T>()> open{};           ///< required
    std::function<void(T&)> close{};           ///< default: nothing (T's destructor)
    std::function<task<bool>(T&)> check{};     ///< on acquire; default: always fine
    std::function<bool(const T&)> reusable{};  ///< on return; default: always
};

template <class T>
class resource_pool {
    struct slot;
    struct shared_state;
    /// Closes its slot through the pool's close callback. The pool's state outlives every slot:
    /// idle ones live in it, leases and acquire() hold it.
    struct closer {
        shared_state* pool = nullptr;
        void operator()(slot* s) const noexcept { pool->close_slot(s); }
    };
    using slot_ptr = std::unique_ptr<slot, closer>;

public:
    /// A resource on loan. Move-only; returns the resource when destroyed (see above).
    class lease {
    public:
        lease() noexcept = default;
        lease(lease&&) noexcept = default;
        lease& operator=(lease&& other) noexcept {
            if (this != &other) {
                give_back();
                pool_ = std::move(other.pool_);
                slot_ = std::move(other.slot_);
                unit_ = std::move(other.unit_);
                broken_ = other.broken_;
            }
            return *this;
        }
        ~lease() { give_back(); }

        T& operator*() const noexcept { return slot_->value; }
        T* operator->() const noexcept { return &slot_->value; }
        explicit operator bool() const noexcept { return slot_ != nullptr; }
        /// Marks the resource broken: it is closed, not reused, when the lease ends.
        void discard() noexcept { broken_ = true; }
        /// Returns the resource now (a no-op on an empty lease).
        void release() noexcept { give_back(); }

    private:
        friend class resource_pool;
        lease(std::shared_ptr<shared_state> pool, slot_ptr s, semaphore::guard unit) noexcept
            : pool_(std::move(pool)), slot_(std::move(s)), unit_(std::move(unit)) {}
        void give_back() noexcept {
            if (!slot_) return;
            pool_->give_back(std::move(slot_), broken_);
            unit_.release();  // after the resource is idle again: the next waiter takes it
            pool_.reset();
        }

        std::shared_ptr<shared_state> pool_;  // declared first: outlives the slot
        slot_ptr slot_;                       // null when empty
        semaphore::guard unit_;               // one of max_size
        bool broken_ = false;
    };

    /// `name` appears in error messages. Throws std::invalid_argument for a zero max_size or
    /// acquire_timeout, a min_size above max_size, or no open callback.
    resource_pool(pool_callbacks<T> callbacks, pool_options options, std::string name = "pool")
        : state_(std::make_shared<shared_state>(std::move(callbacks), options, std::move(name))) {}
    resource_pool(resource_pool&&) noexcept = default;
    resource_pool& operator=(resource_pool&&) noexcept = default;
    /// Closes the pool (see close()).
    ~resource_pool() {
        if (state_) state_->close();
    }

    /// A resource within acquire_timeout: an idle one that passes the check, or a new one.
    task<lease> acquire() { return acquire_from(state_); }
    /// Opens resources until min_size exist (never waits for a unit); throws what open throws.
    task<> fill() { return fill_up(state_); }
    pool_stats stats() const { return state_->stats(); }
    const std::string& name() const noexcept { return state_->name; }
    /// Closes idle resources and refuses acquire() from now on (waiters get pool_closed_error);
    /// leases out close theirs when they end. Idempotent.
    void close() noexcept { state_->close(); }
    task<> aclose() {
        close();
        co_return;
    }

private:
    struct slot {
        T value;
        clock::time_point opened;
        clock::time_point returned;  // when it last became idle
    };

    struct shared_state {
        pool_callbacks<T> callbacks;
        pool_options options;
        std::string name;
        semaphore units;
        std::vector<slot_ptr> idle;  // the most recently returned last
        std::size_t in_use = 0, opening = 0, waiting = 0;
        bool closed = false;  // then idle is empty and units are only handed out to be refused
        pool_stats counters;

        shared_state(pool_callbacks<T> c, pool_options o, std::string n)
            : callbacks(std::move(c)), options(o), name(std::move(n)), units(o.max_size) {
            if (!callbacks.open) throw std::invalid_argument("resource_pool '" + name + "': no open callback");
            if (options.max_size == 0 || options.acquire_timeout <= std::chrono::nanoseconds::zero() || options.min_size > options.max_size)
                throw std::invalid_argument("resource_pool '" + name + "': needs 0 <= min_size <= max_size, max_size > 0, acquire_timeout > 0");
        }
        ~shared_state() { idle.clear(); }  // closes them while the callbacks and counters exist

        pool_stats stats() const {
            pool_stats s = counters;
            s.idle = idle.size();
            s.in_use = in_use;
            s.opening = opening;
            s.waiting = waiting;
            s.size = s.idle + in_use + opening;
            s.max_size = options.max_size;
            return s;
        }

        std::string describe_state() const {
            const pool_stats s = stats();
            return std::to_string(s.in_use) + " of " + std::to_string(s.max_size) + " in use, " + std::to_string(s.idle) + " idle, " +
                   std::to_string(s.opening) + " opening, " + std::to_string(s.waiting) + " waiting";
        }

        void check_open() const {
            if (closed) throw pool_closed_error("pool '" + name + "' is closed");
        }

        void close_slot(slot* s) noexcept {
            ++counters.closed;
            try {
                if (callbacks.close) callbacks.close(s->value);
            } catch (...) {
                log_error("pool '" + name + "': closing a resource failed: " + describe(std::current_exception()));
            }
            delete s;
        }

        bool expired(const slot& s, clock::time_point now) const {
            const auto lifetime = options.max_lifetime, idle_limit = options.max_idle;
            return (lifetime > lifetime.zero() && now - s.opened >= lifetime) || (idle_limit > idle_limit.zero() && now - s.returned >= idle_limit);
        }

        /// Closes idle resources past max_idle or max_lifetime.
        void prune() noexcept {
            const auto now = clock::now();
            std::erase_if(idle, [&](const slot_ptr& s) { return expired(*s, now); });
        }

        /// The most recently returned idle resource that has not expired, or null.
        slot_ptr take_idle() noexcept {
            prune();
            if (idle.empty()) return nullptr;
            slot_ptr s = std::move(idle.back());
            idle.pop_back();
            return s;
        }

        void give_back(slot_ptr s, bool broken) noexcept {
            --in_use;
            bool keep = !broken && !closed;
            if (keep && callbacks.reusable) {
                try {
                    keep = callbacks.reusable(s->value);
                } catch (...) {
                    keep = false;
                }
            }
            if (!keep && !closed) ++counters.discarded;
            if (keep) {
                s->returned = clock::now();
                idle.push_back(std::move(s));
            }
            prune();  // s, if not kept, closes as it goes out of scope
        }

        slot_ptr adopt(T value) {
            const auto now = clock::now();
            ++counters.opened;
            return slot_ptr(new slot{std::move(value), now, now}, closer{this});
        }

        void close() noexcept {
            if (closed) return;
            closed = true;
            idle.clear();
            for (std::size_t i = 0; i < waiting; ++i) units.release();  // wakes them to be refused
        }
    };

    /// Counts the caller as waiting while it waits.
    struct waiting_mark {
        std::size_t& waiting;
        explicit waiting_mark(std::size_t& w) : waiting(w) { ++waiting; }
        ~waiting_mark() { --waiting; }
    };
    struct opening_mark {
        std::size_t& opening;
        explicit opening_mark(std::size_t& o) : opening(o) { ++opening; }
        ~opening_mark() { --opening; }
    };

    static task<semaphore::guard> wait_for_unit(std::shared_ptr<shared_state> s) {
        waiting_mark counted(s->waiting);
        try {
            co_return co_await wait_for(s->units.acquire(), s->options.acquire_timeout);
        } catch (const timeout_error&) {
            ++s->counters.timeouts;
        }
        throw timeout_error("pool '" + s->name + "': no resource within " + format_duration(s->options.acquire_timeout) + " (" +
                            s->describe_state() + ")");
    }

    static task<slot_ptr> open_slot(std::shared_ptr<shared_state> s) {
        opening_mark counted(s->opening);
        T value = co_await s->callbacks.open();
        co_return s->adopt(std::move(value));
    }

    static task<bool> passes_check(shared_state& s, slot& candidate) {
        if (!s.callbacks.check) co_return true;
        try {
            co_return co_await s.callbacks.check(candidate.value);
        } catch (const cancelled_error&) {
            throw;
        } catch (...) {
            co_return false;  // a check that throws found it broken
        }
    }

    static lease lend(std::shared_ptr<shared_state> s, slot_ptr lent, semaphore::guard unit) noexcept {
        ++s->in_use;
        ++s->counters.acquired;
        return lease(std::move(s), std::move(lent), std::move(unit));
    }

    static task<lease> acquire_from(std::shared_ptr<shared_state> s) {
        s->check_open();
        semaphore::guard unit = co_await wait_for_unit(s);
        s->check_open();
        while (slot_ptr candidate = s->take_idle()) {
            const bool healthy = co_await passes_check(*s, *candidate);  // named: g++ 12 (design notes)
            if (healthy) co_return lend(s, std::move(candidate), std::move(unit));
            ++s->counters.discarded;  // candidate closes here
        }
        slot_ptr fresh = co_await open_slot(s);
        s->check_open();
        co_return lend(s, std::move(fresh), std::move(unit));
    }

    static task<> fill_up(std::shared_ptr<shared_state> s) {
        while (s->stats().size < s->options.min_size) {
            s->check_open();
            semaphore::guard unit = s->units.try_acquire();
            if (!unit) co_return;  // all units are out: the pool is as full as it may be
            slot_ptr fresh = co_await open_slot(s);
            fresh->returned = clock::now();
            s->idle.push_back(std::move(fresh));
        }
    }

    std::shared_ptr<shared_state> state_;  // null only when moved from; leases and running calls share it
};

}  // namespace corio
