#include "corio/task_set.hpp"

#include "corio/error.hpp"
#include "corio/log.hpp"
#include "corio/wait_for.hpp"

namespace corio {

void task_set::log_failure(const std::string& task_name, std::exception_ptr error) {
    log_error("corio: background task '" + task_name + "' failed: " + describe(error));
}

void task_set::tracked::on_child_done(detail::task_state& t) noexcept {
    if (!t.promise().error || t.finished_cancelled()) return;
    std::exception_ptr e = t.take_error();
    try {
        owner_.on_error_(t.name(), e);
    } catch (...) {
        log_error("corio: task_set error handler threw while reporting '" + t.name() +
                  "': " + describe(std::current_exception()));
    }
}

task<> task_set::join_all() { co_await tasks_.wait_all(); }

task<std::vector<std::string>> task_set::shutdown(std::chrono::nanoseconds grace) {
    tasks_.cancel_now_and_later();
    std::vector<std::string> unfinished;
    try {
        co_await wait_for(join_all(), grace);
    } catch (const timeout_error&) {
        tasks_.for_each_active([&](detail::task_state& t) {
            unfinished.push_back(t.name());
            log_error("corio: task_set shutdown: '" + t.name() + "' still running after " +
                      format_duration(grace));
        });
    }
    co_return unfinished;
}

}  // namespace corio
