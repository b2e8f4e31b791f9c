// corio/run_threads.hpp — run_threads(n, fn): one event loop per thread (thread-per-core).
//
// snippet: examples/combinators.cpp#run_threads
//   std::atomic<int> shards_done{0};
//   corio::run_threads(2, [&](int index) { return serve_shard(index, shards_done); });
//
// Starts n threads; thread i runs corio::run(fn(i)) on its own loop, and run_threads returns
// when all have finished. Loops share nothing: give each its own state (a listener with
// SO_REUSEPORT, its own client_session, ...) and post to another loop through its loop_handle.
// The first loop to start handles SIGINT/SIGTERM (cancelling its main task); make that task
// stop the others (http::server does).
// Throws: after every thread finished, the first error any of them ended with (the others are
// logged). std::invalid_argument if n < 1. Thread-safety: fn is called from the n threads.
#pragma once

#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "corio/log.hpp"
#include "corio/run.hpp"

namespace corio {

/// `options` apply to every loop (debug mode, virtual time, ...).
template <class F>
void run_threads(int n, F fn, run_options options = {}) {
    if (n < 1) throw std::invalid_argument("corio::run_threads: need at least one thread");
    std::mutex mutex;
    std::exception_ptr first;
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            try {
                corio::run(fn(i), options);
            } catch (...) {
                std::lock_guard lock(mutex);
                if (!first) {
                    first = std::current_exception();
                } else {
                    log_error("corio::run_threads: loop " + std::to_string(i) + " failed: " + describe(std::current_exception()));
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    if (first) std::rethrow_exception(first);
}

}  // namespace corio
