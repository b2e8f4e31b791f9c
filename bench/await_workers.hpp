// bench/await_workers.hpp — awaits a load generator's workers, keeping the first failure: shared
// by bench_http_client and bench/compare's corio_client, which drive the same client loop.
#pragma once

#include <corio/spawn.hpp>
#include <corio/task.hpp>

#include <exception>
#include <string>
#include <vector>

namespace bench {

/// Awaits every worker in order; the first failure's message, or "" if none failed.
inline corio::task<std::string> await_workers(std::vector<corio::join_handle<>>& workers) {
    std::string failure;
    for (auto& w : workers) {
        try {
            co_await w;
        } catch (const std::exception& e) {
            if (failure.empty()) failure = e.what();
        }
    }
    co_return failure;
}

}  // namespace bench
