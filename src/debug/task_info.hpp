// src/debug/task_info.hpp — how debug reports and task dumps describe a task.
#pragma once

#include <string>

#include "corio/detail/debug_hooks.hpp"
#include "corio/detail/task_state.hpp"
#include "report_text.hpp"

namespace corio::detail {

/// Code of the coroutine whose frame starts at `frame_address` (or holds `promise`), to name it
/// (report_text::function).
const void* frame_code(const void* frame_address) noexcept;
const void* frame_code(const promise_base& promise) noexcept;
/// A duration for humans: whole milliseconds under 10 s, whole seconds above.
std::string rounded_duration(clock::duration d);
/// "task #3 'fetch'" (the id only in debug mode; "task 'fetch'" or "task (unnamed)" otherwise).
std::string task_label(const task_state& task);
/// Where a spawn happened: "dir/file.cpp:42", or the symbolized call.
report_text site_text(const code_site& site);
/// What it does now: ready, running, sleeping, waiting on fd 7 for read, awaiting task #2, ...
std::string task_activity(const task_state& task);
/// Indented lines: spawn site, age, state and async stack (debug info permitting).
report_text task_details(const task_state& task, const std::string& indent);
/// The frames an error passed through (from debug_note_exception), indented.
report_text error_trace_text(const task_debug& debug, const std::string& indent);

}  // namespace corio::detail
