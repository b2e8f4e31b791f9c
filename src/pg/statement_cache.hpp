// src/pg/statement_cache.hpp — the prepared statements of one connection (internal to src/pg).
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace corio::pg {

/// Names of the statements prepared on the server, by SQL text and parameter types. Holds at
/// most `capacity` (0: caching is off); the least recently used goes first.
class statement_cache {
public:
    explicit statement_cache(std::size_t capacity = 0) : capacity_(capacity) {}

    bool enabled() const noexcept { return capacity_ > 0; }
    /// What identifies a statement: the SQL and the types its parameters were prepared with.
    static std::string key(const std::string& sql, const std::vector<unsigned>& types);
    /// The prepared statement's name, or null; a hit becomes the most recently used.
    const std::string* find(const std::string& key);
    /// A name no statement of this connection ever had.
    std::string fresh_name() { return "corio_" + std::to_string(++named_); }
    /// Remembers a statement the server prepared; the name of one pushed out (to deallocate).
    std::optional<std::string> add(const std::string& key, std::string name);
    /// Forgets a statement the server no longer has (or must not be trusted).
    void forget(const std::string& key);

private:
    using entry = std::pair<std::string, std::string>;  // key, name
    std::size_t capacity_;
    std::list<entry> recent_;                                             // most recent first
    std::unordered_map<std::string, std::list<entry>::iterator> by_key_;  // one per entry of recent_
    unsigned long named_ = 0;
};

}  // namespace corio::pg
