// Implementation of src/debug/report_text.hpp.
#include "report_text.hpp"

#include "symbolize.hpp"

namespace corio::detail {

report_text& report_text::add(std::string text) {
    if (!text.empty()) pieces_.push_back({kind::literal, std::move(text)});
    return *this;
}

report_text& report_text::append(const report_text& more) {
    pieces_.insert(pieces_.end(), more.pieces_.begin(), more.pieces_.end());
    return *this;
}

report_text& report_text::call_site(const void* return_address) {
    pieces_.push_back({kind::call_site, {}, return_address});
    return *this;
}

report_text& report_text::function(const void* code) {
    pieces_.push_back({kind::function, {}, code});
    return *this;
}

report_text& report_text::frame_line_unless_inlined(const std::string& indent, const void* return_address, const void* frame_code) {
    pieces_.push_back({kind::frame_line, indent, return_address, frame_code});
    return *this;
}

report_text& report_text::thread_stack(const std::string& indent, std::vector<const void*> frames) {
    pieces_.push_back({kind::thread_stack, indent, nullptr, nullptr, std::move(frames)});
    return *this;
}

std::string report_text::resolve() const {
    // One symbolizer run for every address (function addresses are looked up one byte on,
    // since return addresses are looked up one byte back).
    std::vector<const void*> addresses;
    for (const piece& p : pieces_) {
        if (p.what == kind::literal) continue;
        if (p.what == kind::thread_stack) {
            addresses.insert(addresses.end(), p.stack.begin(), p.stack.end());
            continue;
        }
        if (p.what != kind::function) addresses.push_back(p.address);
        if (p.what != kind::call_site) addresses.push_back(static_cast<const char*>(p.what == kind::function ? p.address : p.code) + 1);
    }
    const auto frames = symbolize_return_addresses(addresses);
    std::size_t next = 0;
    std::string out;
    for (const piece& p : pieces_) {
        switch (p.what) {
        case kind::literal:
            out += p.text;
            break;
        case kind::call_site:
            out += frames[next++].back().text();
            break;
        case kind::function:
            out += frames[next++].back().function;
            break;
        case kind::thread_stack: {
            bool in_loop = false;
            for (std::size_t i = 0; i < p.stack.size(); ++i) {
                for (const source_frame& f : frames[next++]) {
                    in_loop = in_loop || f.function.rfind("corio::event_loop::", 0) == 0;  // the rest is the loop's
                    if (!in_loop) out += p.text + f.text() + "\n";
                }
            }
            break;
        }
        case kind::frame_line: {
            const std::string& waits_in = frames[next++].back().function;
            const std::string& frame = frames[next++].back().function;
            if (waits_in != frame) out += p.text + "in " + frame + "\n";
            break;
        }
        }
    }
    return out;
}

}  // namespace corio::detail
