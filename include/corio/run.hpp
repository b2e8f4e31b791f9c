// corio/run.hpp — run(): the program's entry into corio (asyncio.run).
//
// Creates an event loop on the calling thread, runs `main` to completion and returns its value
// or rethrows its error. On the way out it cancels every task still running and waits for them
// (their cleanup runs). While it runs, SIGINT and SIGTERM cancel the main task (unless disabled
// or another loop already handles signals).
//
// Debug mode (corio/debug.hpp): run_options{.debug = true} or CORIO_DEBUG=1 in the environment.
// Then, before cancelling the tasks still running at the end, run() lists them as leaked.
//
// Throws: whatever main throws; corio::error if called while a loop is already running on this
// thread. Thread-safety: one run() per thread at a time; run() in several threads is fine.
#pragma once

#include "corio/debug.hpp"
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
    /// Debug mode (corio/debug.hpp); CORIO_DEBUG=1 in the environment turns it on too.
    bool debug = false;
    debug_options debug_settings{};
    /// SIGUSR1 prints dump_tasks() to stderr (always, in debug mode; needs handle_signals).
    bool dump_tasks_on_sigusr1 = false;
    /// epoll or io_uring (event_loop.hpp); automatic follows CORIO_BACKEND, else the kernel.
    io_backend backend = io_backend::automatic;
};

template <class T>
T run(task<T> main, run_options opts = {}) {
    if (event_loop::current() != nullptr)
        throw error("corio::run: an event loop is already running on this thread");
    const bool debug = opts.debug || debug_requested_by_environment();
    event_loop loop({.virtual_time = opts.virtual_time,
                     .debug = debug,
                     .debug_settings = opts.debug_settings,
                     .dump_tasks_on_sigusr1 = opts.dump_tasks_on_sigusr1,
                     .backend = opts.backend});
    join_handle<T> h = spawn(std::move(main), "main");
    if (opts.handle_signals) loop.try_handle_signals([&h](int) { h.cancel(); });
    loop.run_until_done(h.state());
    if (debug) detail::debug_report_leaked(loop, h.state());
    loop.cancel_all_and_drain();
    return h.result();
}

}  // namespace corio
