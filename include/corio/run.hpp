// corio/run.hpp — run(): the program's entry into corio (asyncio.run).
//
// Creates an event loop on the calling thread, runs `main` to completion and returns its value
// or rethrows its error. On the way out it cancels every task still running and waits for them
// (their cleanup runs). While it runs, SIGINT and SIGTERM cancel the main task (unless disabled
// or another loop already handles signals).
//
// Throws: whatever main throws; corio::error if called while a loop is already running on this
// thread. Thread-safety: one run() per thread at a time; run() in several threads is fine.
#pragma once

#include "corio/error.hpp"
#include "corio/event_loop.hpp"
#include "corio/spawn.hpp"
#include "corio/task.hpp"

namespace corio {

struct run_options {
    /// Drive the clock virtually: idle time jumps to the next timer (see event_loop.hpp).
    bool virtual_time = false;
    /// Let SIGINT/SIGTERM cancel the main task while run() is active.
    bool handle_signals = true;
};

template <class T>
T run(task<T> main, run_options opts = {}) {
    if (event_loop::current() != nullptr)
        throw error("corio::run: an event loop is already running on this thread");
    event_loop loop({.virtual_time = opts.virtual_time});
    join_handle<T> h = spawn(std::move(main), "main");
    if (opts.handle_signals) loop.try_handle_signals([&h](int) { h.cancel(); });
    loop.run_until_done(h.state());
    loop.cancel_all_and_drain();
    return h.result();
}

}  // namespace corio
