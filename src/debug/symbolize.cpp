// Implementation of src/debug/symbolize.hpp.
#include "symbolize.hpp"

#include "corio/event_loop.hpp"
#include "monitor.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <utility>

namespace corio::detail {

namespace {

struct module_offset {
    std::string path;
    std::uintptr_t offset = 0;
};

/// The file of the main program, which dladdr names only as argv[0] would.
std::uintptr_t main_program_base() {
    static const std::uintptr_t base = [] {
        std::uintptr_t found = 0;
        dl_iterate_phdr([](dl_phdr_info* info, std::size_t, void* out) {
            *static_cast<std::uintptr_t*>(out) = info->dlpi_addr;
            return 1;  // the first entry is the main program
        }, &found);
        return found;
    }();
    return base;
}

/// The main program's file (addr2line runs as another process: /proc/self/exe would be its own).
const std::string& main_program_path() {
    static const std::string path = [] {
        char buf[4096];
        const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("/proc/self/exe");
    }();
    return path;
}

module_offset locate(const void* address) {
    Dl_info info{};
    if (dladdr(address, &info) == 0 || info.dli_fbase == nullptr) return {};
    const auto base = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
    const auto at = reinterpret_cast<std::uintptr_t>(address);
    // PIE and shared objects are looked up by offset; a non-PIE program by absolute address.
    const bool main = base == main_program_base() || info.dli_fname == nullptr || info.dli_fname[0] == '\0';
    std::string path = main ? main_program_path() : info.dli_fname;
    const bool absolute = main && base == 0;
    return {std::move(path), absolute ? at : at - base};
}

std::string demangle(const std::string& name) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status), std::free);
    return status == 0 && out ? std::string(out.get()) : name;
}

/// "ns::f(args)" from "ret<T> ns::f<U>(args)": template arguments and a return type make
/// coroutine names unreadably long (operator<, operator<<, operator-> keep their characters).
std::string without_templates_and_return_type(const std::string& f) {
    std::string out;
    int depth = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
        const bool operator_name = i >= 8 && f.compare(i - 8, 8, "operator") == 0;
        if (f[i] == '<' && !operator_name) {
            ++depth;
        } else if (f[i] == '>' && depth > 0 && !(i > 0 && f[i - 1] == '-')) {
            --depth;
        } else if (depth == 0) {
            out += f[i];
        }
    }
    // A space at parenthesis depth 0 before the first '(' ends a return type.
    int parens = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '(') {
            if (parens == 0 && out.compare(i, 21, "(anonymous namespace)") != 0) break;
            ++parens;
        } else if (out[i] == ')') {
            --parens;
        } else if (out[i] == ' ' && parens == 0) {
            return out.substr(i + 1);
        }
    }
    return out;
}

/// Drops what a coroutine's compiled functions add to its name (clone suffixes, GCC's frame
/// parameter) and the "(anonymous namespace)::" qualifiers.
std::string tidy_function(std::string f) {
    for (const char* suffix : {" [clone .actor]", " [clone .resume]", " [clone .destroy]", " (.actor)", " (.resume)", " (.destroy)", " (.cleanup)"}) {
        if (auto at = f.rfind(suffix); at != std::string::npos) f.erase(at);
    }
    for (std::string::size_type at; (at = f.find("(anonymous namespace)::")) != std::string::npos;)
        f.erase(at, 23);
    for (std::string::size_type at; (at = f.find("[abi:cxx11]")) != std::string::npos;) f.erase(at, 11);
    if (f.size() > 7 && f.compare(f.size() - 7, 7, "Frame*)") == 0) {  // GCC: name(name(...)::_Z...Frame*)
        int depth = 0;
        for (std::size_t i = f.size(); i-- > 0;) {
            if (f[i] == ')') ++depth;
            if (f[i] == '(' && --depth == 0) {
                f.erase(i);
                f += "()";
                break;
            }
        }
    }
    return without_templates_and_return_type(f);
}

std::string last_two_components(const std::string& path) {
    const auto last = path.rfind('/');
    if (last == std::string::npos || last == 0) return path;
    const auto before = path.rfind('/', last - 1);
    return before == std::string::npos ? path : path.substr(before + 1);
}

source_frame parse_frame(const std::string& function, std::string location) {
    source_frame f;
    f.function = tidy_function(function);
    // llvm-symbolizer adds a column: file:line:column.
    if (auto last = location.rfind(':'); last != std::string::npos && last > 0) {
        if (auto before = location.rfind(':', last - 1); before != std::string::npos &&
            location.find_first_not_of("0123456789", before + 1) == last)
            location.erase(last);
    }
    const auto colon = location.rfind(':');
    const std::string file = location.substr(0, colon);
    if (file != "??" && !file.empty() && colon != std::string::npos) {
        f.file = last_two_components(file);
        f.line = static_cast<unsigned>(std::strtoul(location.c_str() + colon + 1, nullptr, 10));
    }
    return f;
}

/// llvm-symbolizer when installed (it reads clang's inline records, which addr2line 2.40 misses),
/// else addr2line.
const std::string& symbolizer() {
    static const std::string tool = [] {
        for (const char* candidate : {"/usr/bin/llvm-symbolizer", "/usr/bin/llvm-symbolizer-14", "/usr/lib/llvm-14/bin/llvm-symbolizer"})
            if (::access(candidate, X_OK) == 0) return std::string(candidate);
        return std::string("addr2line");
    }();
    return tool;
}

std::vector<std::string> command_output(const std::string& command) {
    std::vector<std::string> lines;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return lines;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, pipe) != nullptr) {
        std::string line(buf);
        if (!line.empty() && line.back() == '\n') line.pop_back();
        lines.push_back(std::move(line));
    }
    ::pclose(pipe);
    return lines;
}

/// Symbolizes `offsets` in `module`: each address's inline chain, innermost first.
std::vector<std::vector<source_frame>> run_symbolizer(const std::string& module, const std::vector<std::uintptr_t>& offsets) {
    const bool llvm = symbolizer() != "addr2line";
    std::ostringstream cmd;
    if (llvm)
        cmd << symbolizer() << " --demangle --inlining --obj='" << module << "'";
    else
        cmd << "addr2line -C -f -i -e '" << module << "'";
    // addr2line: a sentinel address 0 after each one ends its chain ("??" / "??:0");
    // llvm-symbolizer ends each chain with an empty line.
    for (auto off : offsets) cmd << " 0x" << std::hex << off << (llvm ? "" : " 0");
    cmd << " 2>/dev/null";
    const auto lines = command_output(cmd.str());
    std::vector<std::vector<source_frame>> out(offsets.size());
    std::size_t i = 0;
    for (std::size_t n = 0; n < offsets.size() && i + 1 < lines.size(); ++n) {
        auto chain_ends = [&] {
            return llvm ? lines[i].empty() : lines[i] == "??" && lines[i + 1].rfind("??:", 0) == 0;
        };
        while (i + 1 < lines.size() && !chain_ends()) {
            out[n].push_back(parse_frame(lines[i], lines[i + 1]));
            i += 2;
        }
        i += llvm ? 1 : 2;
    }
    return out;
}

/// When addr2line knows nothing: the dynamic symbol, or module+offset.
source_frame fallback_frame(const void* address, const module_offset& where) {
    Dl_info info{};
    source_frame f;
    if (dladdr(address, &info) != 0 && info.dli_sname != nullptr) f.function = tidy_function(demangle(info.dli_sname));
    if (f.function.empty()) {
        std::ostringstream s;
        s << last_two_components(where.path) << "+0x" << std::hex << where.offset;
        f.function = s.str();
    }
    return f;
}

std::mutex cache_mutex;
std::map<const void*, std::vector<source_frame>>& cache() {
    static std::map<const void*, std::vector<source_frame>> instance;
    return instance;
}

}  // namespace

std::string source_frame::text() const {
    std::string out = function.empty() ? "??" : function;
    if (!file.empty()) out += " at " + file + ":" + std::to_string(line);
    return out;
}

std::vector<std::vector<source_frame>> symbolize_return_addresses(std::span<const void* const> addresses) {
    std::vector<std::vector<source_frame>> result(addresses.size());
    std::lock_guard lock(cache_mutex);
    // On a debug loop's thread, the time spent here does not count as a blocked loop.
    debug_monitor* monitor = event_loop::current() != nullptr ? event_loop::current()->debug_monitor() : nullptr;
    if (monitor != nullptr) monitor->polling(true);
    struct resume_watch {
        debug_monitor* monitor;
        ~resume_watch() {
            if (monitor != nullptr) monitor->polling(false);
        }
    } resume{monitor};
    // Group the unknown addresses by module: one addr2line per module.
    std::map<std::string, std::vector<std::pair<const void*, std::uintptr_t>>> by_module;
    std::map<const void*, module_offset> where;
    for (const void* a : addresses) {
        if (a == nullptr || cache().count(a) != 0 || where.count(a) != 0) continue;
        const void* call = static_cast<const char*>(a) - 1;
        where[a] = locate(call);
        if (!where[a].path.empty()) by_module[where[a].path].emplace_back(a, where[a].offset);
    }
    for (auto& [module, entries] : by_module) {
        std::vector<std::uintptr_t> offsets;
        for (auto& e : entries) offsets.push_back(e.second);
        auto frames = run_symbolizer(module, offsets);
        for (std::size_t i = 0; i < entries.size(); ++i) {
            auto& chain = frames[i];
            if (chain.empty() || (chain.size() == 1 && chain[0].file.empty() && chain[0].function == "??"))
                chain = {fallback_frame(static_cast<const char*>(entries[i].first) - 1, where[entries[i].first])};
            cache()[entries[i].first] = std::move(chain);
        }
    }
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        if (auto it = cache().find(addresses[i]); it != cache().end()) result[i] = it->second;
        if (result[i].empty()) result[i] = {source_frame{"??", "", 0}};
    }
    return result;
}

}  // namespace corio::detail
