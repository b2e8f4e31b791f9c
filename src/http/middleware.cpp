// Implementation of corio/http/middleware.hpp: access_log(), cors(), compress().
#include "corio/http/middleware.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "corio/http/errors.hpp"

namespace corio::http {
namespace {

// ---- access_log ----

enum class log_field { peer, method, target, path, version, status, bytes, duration_ms, request_id };

constexpr std::pair<std::string_view, log_field> log_fields[] = {
    {"peer", log_field::peer},       {"method", log_field::method},           {"target", log_field::target},
    {"path", log_field::path},       {"version", log_field::version},         {"status", log_field::status},
    {"bytes", log_field::bytes},     {"duration_ms", log_field::duration_ms}, {"request_id", log_field::request_id},
};

/// A text format split once into literal text and fields.
struct log_piece {
    std::string literal;  // used when !is_field
    log_field field{};
    bool is_field = false;
};

std::vector<log_piece> parse_format(std::string_view format) {
    std::vector<log_piece> pieces;
    while (!format.empty()) {
        const std::size_t open = format.find('{');
        if (open != 0) {
            pieces.push_back({std::string(format.substr(0, open)), {}, false});
            if (open == std::string_view::npos) break;
            format.remove_prefix(open);
        }
        const std::size_t close = format.find('}');
        const std::string_view name = format.substr(1, close == std::string_view::npos ? close : close - 1);
        const auto* known = std::find_if(std::begin(log_fields), std::end(log_fields),
                                         [&](const auto& f) { return f.first == name; });
        if (close == std::string_view::npos || known == std::end(log_fields))
            throw std::invalid_argument("http::access_log: unknown field {" + std::string(name) + "} in the text format");
        pieces.push_back({{}, known->second, true});
        format.remove_prefix(close + 1);
    }
    return pieces;
}

/// `s` with control characters and backslashes escaped (the target was checked by the server,
/// but a log must stay one line whatever reaches it).
std::string escaped(std::string_view s) {
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '\\' || c == '"') {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", u);
            out += hex;
        } else {
            out += c;
        }
    }
    return out;
}

std::string field_text(log_field f, const request& req, const response_sent& sent) {
    switch (f) {
        case log_field::peer: return req.peer().to_string();
        case log_field::method: return escaped(req.method());
        case log_field::target: return escaped(req.target());
        case log_field::path: return escaped(req.path());
        case log_field::version: return std::to_string(req.version_minor());
        case log_field::status: return std::to_string(sent.status) + (sent.complete ? "" : " (cut)");
        case log_field::bytes: return std::to_string(sent.body_bytes);
        case log_field::duration_ms: {
            char text[32];
            std::snprintf(text, sizeof text, "%.3f", std::chrono::duration<double, std::milli>(sent.duration).count());
            return text;
        }
        case log_field::request_id: return escaped(req.request_id());
    }
    return {};
}

std::string json_line(const request& req, const response_sent& sent) {
    nlohmann::ordered_json line{
        {"peer", req.peer().to_string()},
        {"method", req.method()},
        {"target", req.target()},
        {"path", req.path()},
        {"version", "HTTP/1." + std::to_string(req.version_minor())},
        {"status", sent.status},
        {"bytes", sent.body_bytes},
        {"duration_ms", std::chrono::duration<double, std::milli>(sent.duration).count()},
        {"request_id", req.request_id()},
        {"complete", sent.complete},
    };
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void to_stderr(std::string_view line) {
    std::string whole(line);
    whole += '\n';
    std::fwrite(whole.data(), 1, whole.size(), stderr);  // one write: lines from several loops do not interleave
}

// ---- cors ----

bool contains_ci(const std::vector<std::string>& list, std::string_view value) {
    return std::any_of(list.begin(), list.end(), [&](const std::string& item) { return iequals(item, value); });
}

std::string joined(const std::vector<std::string>& list) {
    std::string out;
    for (const std::string& item : list) out.append(out.empty() ? "" : ", ").append(item);
    return out;
}

class cors_policy {
public:
    explicit cors_policy(cors_options o) : o_(std::move(o)) {
        any_origin_ = std::find(o_.allow_origins.begin(), o_.allow_origins.end(), "*") != o_.allow_origins.end();
        any_header_ = std::find(o_.allow_headers.begin(), o_.allow_headers.end(), "*") != o_.allow_headers.end();
        if (any_origin_ && o_.allow_credentials)
            throw std::invalid_argument(
                "http::cors: allow_credentials with allow_origins \"*\" would let every site act with the user's "
                "cookies; list the origins");
    }

    task<response> operator()(request& req, next_handler next) const {
        const auto origin = req.headers().get("Origin");
        if (!origin) return next(req);
        if (req.method() == "OPTIONS" && req.headers().contains("Access-Control-Request-Method"))
            return ready(preflight(req, *origin));
        return decorate(req, std::string(*origin), next);
    }

private:
    bool origin_allowed(std::string_view origin) const {
        return any_origin_ || std::find(o_.allow_origins.begin(), o_.allow_origins.end(), origin) != o_.allow_origins.end();
    }

    /// The origin to allow in a response ("*" when any may read it without credentials).
    std::string allowed_origin(const std::string& origin) const {
        return any_origin_ && !o_.allow_credentials ? "*" : origin;
    }

    response preflight(const request& req, std::string_view origin) const {
        const std::string_view method = *req.headers().get("Access-Control-Request-Method");
        std::string refused;
        if (!origin_allowed(origin)) refused = "origin " + escaped(origin) + " is not allowed";
        else if (!contains_ci(o_.allow_methods, method)) refused = "method " + escaped(method) + " is not allowed";
        const std::string asked(req.headers().get("Access-Control-Request-Headers").value_or(""));
        for (const std::string_view h : list_elements(asked))
            if (refused.empty() && !any_header_ && !contains_ci(o_.allow_headers, h))
                refused = "header " + escaped(h) + " is not allowed";
        if (!refused.empty()) return response::text("CORS preflight refused: " + refused + "\n", 403);
        response answer(204);
        answer.headers().add("Access-Control-Allow-Origin", allowed_origin(std::string(origin)));
        answer.headers().add("Access-Control-Allow-Methods", joined(o_.allow_methods));
        if (!asked.empty()) answer.headers().add("Access-Control-Allow-Headers", any_header_ ? asked : joined(o_.allow_headers));
        answer.headers().add("Access-Control-Max-Age", std::to_string(o_.max_age.count()));
        if (o_.allow_credentials) answer.headers().add("Access-Control-Allow-Credentials", "true");
        answer.headers().add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
        return answer;
    }

    task<response> decorate(request& req, std::string origin, next_handler next) const {
        response r = co_await next(req);
        if (!origin_allowed(origin)) co_return r;
        r.headers().set("Access-Control-Allow-Origin", allowed_origin(origin));
        if (o_.allow_credentials) r.headers().set("Access-Control-Allow-Credentials", "true");
        if (!o_.expose_headers.empty()) r.headers().set("Access-Control-Expose-Headers", joined(o_.expose_headers));
        if (!(any_origin_ && !o_.allow_credentials)) r.headers().add("Vary", "Origin");
        co_return r;
    }

    static task<response> ready(response r) { co_return r; }

    cors_options o_;
    bool any_origin_ = false;
    bool any_header_ = false;
};

// ---- compress ----

/// The q-value `accept` (an Accept-Encoding value) gives gzip: its own, else "*"'s, else 0.
double gzip_quality(std::string_view accept) {
    double star = 0;
    for (const std::string_view item : list_elements(accept)) {
        const std::size_t semi = item.find(';');
        const std::string_view coding = trim_ows(item.substr(0, semi));
        double q = 1;
        if (semi != std::string_view::npos) {
            const std::size_t eq = item.find('=', semi);
            if (eq != std::string_view::npos) q = std::strtod(std::string(item.substr(eq + 1)).c_str(), nullptr);
        }
        if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) return q;
        if (coding == "*") star = q;
    }
    return star;
}

bool compressible(std::string_view content_type) {
    const std::string_view type = content_type.substr(0, content_type.find(';'));
    const auto ends_with = [&](std::string_view suffix) {
        return type.size() >= suffix.size() && iequals(type.substr(type.size() - suffix.size()), suffix);
    };
    return (type.size() >= 5 && iequals(type.substr(0, 5), "text/")) || iequals(type, "application/json") ||
           iequals(type, "application/javascript") || iequals(type, "application/xml") || ends_with("+json") ||
           ends_with("+xml");
}

std::string gzip(std::string_view data, int level) {
    z_stream z{};
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::bad_alloc();
    const std::unique_ptr<z_stream, int (*)(z_stream*)> end(&z, deflateEnd);
    std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("http::compress: deflate did not finish");
    out.resize(z.total_out);
    return out;
}

}  // namespace

middleware access_log(access_log_options options) {
    auto sink = options.sink ? std::move(options.sink) : to_stderr;
    auto write = [json = options.format == access_log_options::json_lines, pieces = parse_format(options.text_format),
                  sink = std::move(sink)](const request& req, const response_sent& sent) {
        if (json) return sink(json_line(req, sent));
        std::string line;
        for (const log_piece& p : pieces) line += p.is_field ? field_text(p.field, req, sent) : p.literal;
        sink(line);
    };
    return [write = std::move(write)](request& req, next_handler next) {
        req.after_response(write);
        return next(req);
    };
}

middleware cors(cors_options options) {
    return [policy = std::make_shared<const cors_policy>(std::move(options))](request& req, next_handler next) {
        return (*policy)(req, next);
    };
}

middleware compress(compress_options options) {
    if (options.level < 1 || options.level > 9) throw std::invalid_argument("http::compress: level must be 1-9");
    return [options](request& req, next_handler next) -> task<response> {
        const double quality = gzip_quality(req.headers().get("Accept-Encoding").value_or(""));
        response r = co_await next(req);
        const bool eligible = !r.streaming() && r.body().size() >= options.min_size &&
                              !r.headers().contains("Content-Encoding") &&
                              compressible(r.headers().get("Content-Type").value_or(""));
        if (!eligible) co_return r;
        r.headers().add("Vary", "Accept-Encoding");  // the answer depends on it, for caches
        if (quality <= 0) co_return r;
        r.set_body(gzip(r.body(), options.level));
        r.headers().add("Content-Encoding", "gzip");
        co_return r;
    };
}

}  // namespace corio::http
