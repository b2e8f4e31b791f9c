// src/debug/symbolize.hpp — code addresses to "function at file:line", for debug reports only.
//
// Uses addr2line (binutils) on the module each address belongs to, one process per batch; the
// results are cached. Without debug info a frame keeps its function name (from the dynamic
// symbol table, when exported) or its module+offset. Thread-safe.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace corio::detail {

/// One source-level frame; an address inside inlined code yields several (innermost first).
struct source_frame {
    std::string function;  // demangled, without the coroutine clone suffix; may be "??"
    std::string file;      // the last two path components; empty when unknown
    unsigned line = 0;
    std::string text() const;  // "function at dir/file.cpp:42" (or what is known of it)
};

/// Symbolizes return addresses (each looked up at address - 1, the call instruction).
std::vector<std::vector<source_frame>> symbolize_return_addresses(std::span<const void* const> addresses);

}  // namespace corio::detail
