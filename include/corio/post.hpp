// corio/post.hpp — post(): hand a function to an event loop from any thread.
//
// The bridge from plain threads back into corio: a thread that holds a loop_handle (copy it out of
// the loop with current_loop_handle() while on the loop's thread) can ask that loop to run a
// function on the loop's own thread, where it may touch tasks, spawn, etc. Posted functions run
// in FIFO order per posting thread, between batches of ready tasks. An exception escaping a
// posted function is logged (corio::log_error) and otherwise ignored.
//
// Guarantees: post() returns true if the loop accepted fn (it will run unless the loop is
// destroyed first, in which case fn is destroyed unrun); false if the loop has already ended or
// the handle is empty: then fn is destroyed without running.
// Thread-safety: post() may be called from any thread, including the loop's own. Throws: only
// std::bad_alloc; current_loop_handle() throws corio::error outside a running loop.
// Cancel safety: not an await; nothing to cancel.
#pragma once

#include <functional>
#include <utility>

#include "corio/event_loop.hpp"

namespace corio {

/// Runs fn on the loop behind `loop` soon. Returns false (dropping fn) if that loop has ended.
inline bool post(const loop_handle& loop, std::function<void()> fn) {
    return loop.post(std::move(fn));
}

/// A handle to the calling thread's running loop, to give to other threads.
inline loop_handle current_loop_handle() { return current_loop("current_loop_handle").handle(); }

}  // namespace corio
