// Describing tasks for debug reports, and dump_tasks() (corio/debug.hpp).
#include <cxxabi.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <ostream>
#include <typeinfo>

#include "corio/debug.hpp"
#include "corio/error.hpp"
#include "corio/event_loop.hpp"
#include "corio/sleep.hpp"
#include "corio/task.hpp"
#include "symbolize.hpp"
#include "task_info.hpp"

namespace corio::detail {

std::string cancel_hook::describe_wait() const {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(typeid(*this).name(), nullptr, nullptr, &status), std::free);
    return std::string("waiting in ") + (status == 0 && name ? name.get() : typeid(*this).name());
}

const void* frame_code(const void* frame_address) noexcept {
    // GCC and Clang lay a frame out as {resume fn, destroy fn, promise, ...}. GCC clears the
    // resume pointer once the body has ended; the destroy function is named after the coroutine
    // too, and stays.
    return static_cast<void* const*>(frame_address)[1];
}

const void* frame_code(const promise_base& promise) noexcept {
    return frame_code(reinterpret_cast<const char*>(&promise) - 2 * sizeof(void*));
}

std::string rounded_duration(clock::duration d) {
    using namespace std::chrono;
    if (d >= seconds(10)) return format_duration(duration_cast<seconds>(d));
    return format_duration(duration_cast<milliseconds>(d));
}

std::string task_label(const task_state& task) {
    std::string out = "task";
    if (const task_debug* d = task.debug_info()) out += " #" + std::to_string(d->id);
    out += task.name().empty() ? std::string(" (unnamed)") : " '" + task.name() + "'";
    return out;
}

report_text site_text(const code_site& site) {
    if (site.location.line != 0) {
        std::string file = site.location.file;
        const auto last = file.rfind('/');
        if (last != std::string::npos && last > 0) {
            const auto before = file.rfind('/', last - 1);
            if (before != std::string::npos) file = file.substr(before + 1);
        }
        return file + ":" + std::to_string(site.location.line);
    }
    if (site.address == nullptr) return "an unknown place";
    return report_text().call_site(site.address);
}

std::string task_activity(const task_state& task) {
    std::string out;
    if (task.done()) out = "finished";
    else if (current_task == &task) out = "running";
    else if (task.queued()) out = "ready to run";
    else if (!task.started()) out = "not started yet";
    else if (const cancel_hook* hook = task.waiting_on()) out = hook->describe_wait();
    else out = "waiting (cannot be interrupted)";
    if (task.cancel_requested() && !task.done()) out += ", cancel requested";
    return out;
}

namespace {

/// The await chain of a task, innermost first: where its deepest frame is suspended, then where
/// each frame above awaits the one below.
std::vector<const void*> await_chain(const task_debug& d) {
    std::vector<const void*> chain;
    if (d.suspended_at != nullptr) chain.push_back(d.suspended_at);
    for (auto it = d.awaited.rbegin(); it != d.awaited.rend(); ++it) chain.push_back(it->site);
    return chain;
}

report_text frames_text(const std::vector<const void*>& addresses, const std::string& indent) {
    report_text out;
    for (const void* a : addresses) out.add(indent).call_site(a).add("\n");
    return out;
}

/// The async stack: where the deepest frame waits (and, when that wait's code is not inlined in
/// it, the frame's own function), then where each frame above awaits the one below.
report_text async_stack_text(const task_debug& d, const std::string& indent) {
    const auto chain = await_chain(d);
    report_text out;
    for (std::size_t i = 0; i < chain.size(); ++i) {
        out.add(indent).call_site(chain[i]).add("\n");
        const promise_base* innermost = d.awaited.empty() ? d.root : d.awaited.back().frame;
        if (i == 0 && d.suspended_at != nullptr && innermost != nullptr)
            out.frame_line_unless_inlined(indent, d.suspended_at, frame_code(*innermost));
    }
    return out;
}

std::string age_text(const task_state& task, const task_debug& d) {
    return rounded_duration(task.loop().now() - d.created);
}

}  // namespace

report_text task_details(const task_state& task, const std::string& indent) {
    const task_debug* d = task.debug_info();
    if (d == nullptr) return indent + task_activity(task) + "\n";
    report_text out = indent + task_activity(task) + ", age " + age_text(task, *d) + "\n";
    out.add(indent + "spawned at ").append(site_text(d->spawn_site));
    if (d->parent_id != 0) out.add(" by task #" + std::to_string(d->parent_id));
    out.add("\n");
    if (!task.done() && current_task != &task) {
        if (report_text stack = async_stack_text(*d, indent + "  "); !stack.empty())
            out.add(indent + "async stack:\n").append(stack);
    }
    return out;
}

report_text error_trace_text(const task_debug& d, const std::string& indent) {
    if (d.error_trace.empty()) return {};
    report_text out;
    out.add(indent + "the error left ").function(d.error_trace.front()).add("\n");
    std::vector<const void*> sites;
    // After the frame's code: where each frame on the error's way was awaited.
    for (std::size_t i = 1; i < d.error_trace.size(); ++i)
        if (d.error_trace[i] != nullptr) sites.push_back(d.error_trace[i]);
    if (!sites.empty()) out.add(indent + "async stack of the error:\n").append(frames_text(sites, indent + "  "));
    return out;
}

namespace {

void dump_tree(report_text& out, task_state& task, const std::multimap<std::uint64_t, task_state*>& children,
               const std::string& indent) {
    out.add(indent + task_label(task) + "\n").append(task_details(task, indent + "    "));
    const task_debug* d = task.debug_info();
    if (d == nullptr) return;
    auto [from, to] = children.equal_range(d->id);
    for (auto it = from; it != to; ++it) dump_tree(out, *it->second, children, indent + "  ");
}

}  // namespace

}  // namespace corio::detail

namespace corio {

bool debug_enabled() noexcept { return detail::debug_on; }

void dump_tasks(std::ostream& out) {
    event_loop* loop = event_loop::current();
    if (loop == nullptr) return;
    std::vector<detail::task_state*> tasks;
    loop->for_each_task([&](detail::task_state& t) { tasks.push_back(&t); });
    std::map<std::uint64_t, detail::task_state*> by_id;
    for (auto* t : tasks)
        if (const auto* d = t->debug_info()) by_id[d->id] = t;
    std::multimap<std::uint64_t, detail::task_state*> children;
    std::vector<detail::task_state*> roots;
    for (auto* t : tasks) {
        const auto* d = t->debug_info();
        if (d != nullptr && by_id.count(d->parent_id) != 0) children.emplace(d->parent_id, t);
        else roots.push_back(t);
    }
    detail::report_text text = "corio: " + std::to_string(tasks.size()) + (tasks.size() == 1 ? " live task" : " live tasks") + " on this loop\n";
    for (auto* t : roots) detail::dump_tree(text, *t, children, "  ");
    out << text.resolve();
    out.flush();
}

}  // namespace corio

namespace corio::detail {

std::string sleep_wait::describe_wait() const {
    return "sleeping, wakes in " + rounded_duration(deadline() - task_->loop().now());
}

std::string describe_join_wait(const task_state& target) {
    return "awaiting " + task_label(target);
}

}  // namespace corio::detail
