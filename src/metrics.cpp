// Implementation of corio/metrics.hpp.
#include "corio/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <variant>

namespace corio::metrics {
namespace {

bool is_name(std::string_view name, bool colons) {
    const auto first = [&](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (colons && c == ':'); };
    const auto other = [&](char c) { return first(c) || std::isdigit(static_cast<unsigned char>(c)); };
    return !name.empty() && first(name.front()) && std::all_of(name.begin() + 1, name.end(), other);
}

void check_series(const std::string& name, const labels& series, bool histogram) {
    if (!is_name(name, true)) throw std::invalid_argument("metrics: invalid metric name '" + name + "' ([a-zA-Z_:][a-zA-Z0-9_:]*)");
    for (std::size_t i = 0; i < series.size(); ++i) {
        const std::string& label = series[i].first;
        if (!is_name(label, false) || label.starts_with("__") || (histogram && label == "le"))
            throw std::invalid_argument("metrics: invalid label name '" + label + "' for " + name);
        for (std::size_t j = 0; j < i; ++j)
            if (series[j].first == label) throw std::invalid_argument("metrics: label '" + label + "' given twice for " + name);
    }
}

/// `text` with `\`, newline (and, in a label value, `"`) escaped as the format asks.
std::string escaped(std::string_view text, bool quote) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && quote)
            out += "\\\"";
        else
            out += c;
    }
    return out;
}

std::string number(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char text[32];
    if (value == std::floor(value) && std::fabs(value) < 1e15)
        std::snprintf(text, sizeof text, "%.0f", value);
    else
        std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}

}  // namespace

// ---- histogram ----

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
    for (std::size_t i = 0; i < bounds_.size(); ++i)
        if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1]))
            throw std::invalid_argument("metrics::histogram: bucket bounds must be finite and increasing");
    for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double value) noexcept {
    const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();  // first bound >= value
    counts_[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
    snapshot s{bounds_, std::vector<std::uint64_t>(bounds_.size() + 1), sum_.load(std::memory_order_relaxed)};
    std::uint64_t total = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) s.cumulative[i] = total += counts_[i].load(std::memory_order_relaxed);
    return s;
}

std::vector<double> latency_buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// ---- sample_writer ----

sample_writer::family& sample_writer::family_of(std::string_view name, std::string_view type, std::string_view help) {
    for (auto& [known, f] : families_)
        if (known == name) return f;
    families_.emplace_back(std::string(name), family{std::string(type), std::string(help), {}});
    return families_.back().second;
}

void sample_writer::line(family& f, std::string_view name, const labels& series, std::string_view value) {
    f.samples.append(name);
    if (!series.empty()) {
        f.samples += '{';
        for (std::size_t i = 0; i < series.size(); ++i)
            f.samples.append(i > 0 ? "," : "").append(series[i].first).append("=\"").append(escaped(series[i].second, true)).append("\"");
        f.samples += '}';
    }
    f.samples.append(" ").append(value).append("\n");
}

void sample_writer::counter(std::string_view name, std::string_view help, const labels& series, double value) {
    line(family_of(name, "counter", help), name, series, number(value));
}

void sample_writer::gauge(std::string_view name, std::string_view help, const labels& series, double value) {
    line(family_of(name, "gauge", help), name, series, number(value));
}

void sample_writer::histogram(std::string_view name, std::string_view help, const labels& series,
                              const histogram::snapshot& value) {
    family& f = family_of(name, "histogram", help);
    const std::string base(name);
    labels with_le = series;
    with_le.emplace_back("le", "");
    for (std::size_t i = 0; i < value.cumulative.size(); ++i) {
        with_le.back().second = i < value.bounds.size() ? number(value.bounds[i]) : "+Inf";
        line(f, base + "_bucket", with_le, number(static_cast<double>(value.cumulative[i])));
    }
    line(f, base + "_sum", series, number(value.sum));
    line(f, base + "_count", series, number(static_cast<double>(value.cumulative.back())));
}

std::string sample_writer::text() const {
    std::string out;
    for (const auto& [name, f] : families_) {
        out.append("# HELP ").append(name).append(" ").append(escaped(f.help, false)).append("\n");
        out.append("# TYPE ").append(name).append(" ").append(f.type).append("\n");
        out.append(f.samples);
    }
    return out;
}

// ---- collector_handle ----

collector_handle::collector_handle(collector_handle&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), id_(other.id_) {}

collector_handle& collector_handle::operator=(collector_handle&& other) noexcept {
    if (this != &other) {
        if (owner_ != nullptr) owner_->remove_collector(id_);
        owner_ = std::exchange(other.owner_, nullptr);
        id_ = other.id_;
    }
    return *this;
}

collector_handle::~collector_handle() {
    if (owner_ != nullptr) owner_->remove_collector(id_);
}

// ---- registry ----

struct registry::series_entry {
    std::string help;
    std::variant<metrics::counter, metrics::gauge, std::unique_ptr<metrics::histogram>> value;
};

registry::registry() = default;
registry::~registry() = default;

registry& registry::global() {
    static registry* const instance = new registry;  // never destroyed: loops may report while the process exits
    return *instance;
}

registry::series_entry& registry::entry(const std::string& name, const std::string& help, const labels& series, char kind,
                                        const std::vector<double>* bounds) {
    check_series(name, series, kind == 'h');
    const std::lock_guard lock(mutex_);
    if (const auto known = kinds_.find(name); known != kinds_.end() && known->second != kind)
        throw std::invalid_argument("metrics: '" + name + "' is already a metric of another kind");
    auto& slot = series_[{name, series}];
    if (!slot) {
        slot = std::make_unique<series_entry>();
        slot->help = help;
        if (kind == 'g') slot->value.emplace<metrics::gauge>();
        if (kind == 'h') slot->value.emplace<std::unique_ptr<metrics::histogram>>(std::make_unique<metrics::histogram>(*bounds));
        kinds_[name] = kind;
    }
    return *slot;
}

metrics::counter& registry::counter(const std::string& name, const std::string& help, const labels& series) {
    return std::get<metrics::counter>(entry(name, help, series, 'c', nullptr).value);
}

metrics::gauge& registry::gauge(const std::string& name, const std::string& help, const labels& series) {
    return std::get<metrics::gauge>(entry(name, help, series, 'g', nullptr).value);
}

metrics::histogram& registry::histogram(const std::string& name, const std::string& help, std::vector<double> upper_bounds,
                                        const labels& series) {
    return *std::get<std::unique_ptr<metrics::histogram>>(entry(name, help, series, 'h', &upper_bounds).value);
}

collector_handle registry::add_collector(std::function<void(sample_writer&)> collect) {
    const std::lock_guard lock(mutex_);
    const std::uint64_t id = next_id_++;
    collectors_.emplace(id, std::move(collect));
    return collector_handle(this, id);
}

void registry::remove_collector(std::uint64_t id) noexcept {
    const std::lock_guard lock(mutex_);
    collectors_.erase(id);
}

void registry::write(sample_writer& out) const {
    const std::lock_guard lock(mutex_);
    for (const auto& [key, e] : series_) {
        const auto& [name, series] = key;
        if (const auto* c = std::get_if<metrics::counter>(&e->value))
            out.counter(name, e->help, series, static_cast<double>(c->value()));
        else if (const auto* g = std::get_if<metrics::gauge>(&e->value))
            out.gauge(name, e->help, series, g->value());
        else
            out.histogram(name, e->help, series, std::get<std::unique_ptr<metrics::histogram>>(e->value)->read());
    }
    for (const auto& [id, collect] : collectors_) collect(out);
}

std::string registry::text() const {
    sample_writer out;
    write(out);
    return out.text();
}

}  // namespace corio::metrics
