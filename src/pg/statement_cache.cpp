#include "statement_cache.hpp"

namespace corio::pg {

std::string statement_cache::key(const std::string& sql, const std::vector<unsigned>& types) {
    std::string k;
    k.reserve(sql.size() + 1 + types.size() * 5);
    k += sql;
    k += '\0';  // SQL text can hold no NUL: the types cannot run into it
    for (unsigned t : types) k += std::to_string(t) + ',';
    return k;
}

const std::string* statement_cache::find(const std::string& key) {
    const auto at = by_key_.find(key);
    if (at == by_key_.end()) return nullptr;
    recent_.splice(recent_.begin(), recent_, at->second);
    return &at->second->second;
}

std::optional<std::string> statement_cache::add(const std::string& key, std::string name) {
    forget(key);
    recent_.emplace_front(key, std::move(name));
    by_key_[key] = recent_.begin();
    if (recent_.size() <= capacity_) return std::nullopt;
    std::string evicted = std::move(recent_.back().second);
    by_key_.erase(recent_.back().first);
    recent_.pop_back();
    return evicted;
}

void statement_cache::forget(const std::string& key) {
    const auto at = by_key_.find(key);
    if (at == by_key_.end()) return;
    recent_.erase(at->second);
    by_key_.erase(at);
}

}  // namespace corio::pg
