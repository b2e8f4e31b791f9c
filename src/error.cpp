#include "corio/error.hpp"

#include <cstdio>
#include <mutex>
#include <utility>

#include "corio/context_var.hpp"
#include "corio/log.hpp"

namespace corio {

std::string format_duration(std::chrono::nanoseconds d) {
    using namespace std::chrono;
    const auto ns = d.count();
    char buf[48];
    if (ns % 1'000'000'000 == 0)
        std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(ns / 1'000'000'000));
    else if (ns >= 1'000'000'000)
        std::snprintf(buf, sizeof buf, "%.3gs", static_cast<double>(ns) / 1e9);
    else if (ns % 1'000'000 == 0 || ns >= 1'000'000)
        std::snprintf(buf, sizeof buf, "%.3gms", static_cast<double>(ns) / 1e6);
    else if (ns >= 1'000)
        std::snprintf(buf, sizeof buf, "%.3gus", static_cast<double>(ns) / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(ns));
    return buf;
}

namespace {
std::mutex logger_mutex;
error_logger& logger() {
    static error_logger instance;
    return instance;
}
}  // namespace

error_logger set_error_logger(error_logger next) {
    std::lock_guard lock(logger_mutex);
    return std::exchange(logger(), std::move(next));
}

const context_var<std::string> request_id;

namespace {

/// `message`, with the request it was logged for at the end.
std::string with_request_id(std::string_view message) {
    std::string line(message);
    if (const std::string* id = request_id.get(); id != nullptr && !id->empty())
        line.append(" [request_id=").append(*id).append("]");
    return line;
}

}  // namespace

void log_error(std::string_view original) {
    const std::string message = with_request_id(original);
    error_logger current;
    {
        std::lock_guard lock(logger_mutex);
        current = logger();
    }
    if (current) {
        current(message);
        return;
    }
    std::fprintf(stderr, "%.*s\n", static_cast<int>(message.size()), message.data());
}

std::string describe(const std::exception_ptr& e) {
    if (!e) return "no error";
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (const cancelled_error& c) {
        return std::string("cancelled: ") + c.what();
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace corio
