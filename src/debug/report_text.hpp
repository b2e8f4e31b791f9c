// src/debug/report_text.hpp — the text of a debug report, with code addresses left to symbolize.
//
// A report is gathered on the loop thread (names, states, addresses: cheap) and written out by
// the debug monitor's thread, which symbolizes every address in one batch: the loop never waits
// for a symbolizer.
#pragma once

#include <string>
#include <vector>

namespace corio::detail {

class report_text {
public:
    report_text() = default;
    report_text(std::string text) { add(std::move(text)); }  // NOLINT: implicit, like a string
    report_text(const char* text) { add(text); }              // NOLINT

    report_text& add(std::string text);
    report_text& append(const report_text& more);
    /// "function at file:line" of the call that returns to `return_address`.
    report_text& call_site(const void* return_address);
    /// The name of the coroutine whose code `code` is (a frame's destroy function).
    report_text& function(const void* code);
    /// `indent` "in <function of frame_code>" and a newline, unless that is the function the
    /// call returning to `return_address` is in (a wait's code not inlined in its coroutine).
    report_text& frame_line_unless_inlined(const std::string& indent, const void* return_address, const void* frame_code);
    /// A thread's stack, one `indent`ed line per source frame, up to the event loop's own frames.
    report_text& thread_stack(const std::string& indent, std::vector<const void*> frames);

    report_text& operator+=(std::string more) { return add(std::move(more)); }
    bool empty() const noexcept { return pieces_.empty(); }
    /// The text, every address symbolized (slow: runs a symbolizer for unknown addresses).
    std::string resolve() const;

private:
    enum class kind { literal, call_site, function, frame_line, thread_stack };
    struct piece {
        kind what;
        std::string text;             // literal text, or frame_line's and thread_stack's indent
        const void* address = nullptr;
        const void* code = nullptr;   // frame_line: the frame's code
        std::vector<const void*> stack = {};  // thread_stack: return addresses, innermost first
    };
    std::vector<piece> pieces_;
};

inline report_text operator+(report_text a, const report_text& b) { return std::move(a.append(b)); }

}  // namespace corio::detail
