// Implementation of server::static_files (corio/http/server.hpp): files under one directory,
// opened beneath it by the kernel (openat2 RESOLVE_BENEATH: no "..", no symlink out of it, no
// race between a check and the open), sent with sendfile, with validators and ranges; and
// response::from_file, an open corio::file sent the same way.
#include "static_files.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <system_error>

#include "corio/http/errors.hpp"
#include "corio/to_thread.hpp"

namespace corio::http::detail {
namespace {

/// An fd opened by the kernel strictly beneath `dir`, or -1 with errno set.
int open_beneath(int dir, const std::string& relative) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, dir, relative.c_str(), &how, sizeof how));
}

constexpr std::pair<std::string_view, std::string_view> content_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/vnd.microsoft.icon"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"wav", "audio/wav"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
};

std::string_view content_type_of(std::string_view name) {
    const std::size_t dot = name.rfind('.');
    if (dot == std::string_view::npos) return "application/octet-stream";
    const std::string_view extension = name.substr(dot + 1);
    for (const auto& [ext, type] : content_types)
        if (iequals(ext, extension)) return type;
    return "application/octet-stream";
}

/// A segment that may name a file: not empty, not "." or "..", no '/' or NUL (decoded from
/// %2F or %00), not hidden unless asked for.
bool acceptable_segment(std::string_view s, bool hidden) {
    if (s.empty() || s == "." || s == "..") return false;
    if (s.find('/') != std::string_view::npos || s.find('\0') != std::string_view::npos) return false;
    return hidden || s.front() != '.';
}

/// A strong validator from what changes when the file does: size and modification time.
std::string etag_of(const struct stat& st) {
    char text[64];
    const int n = std::snprintf(text, sizeof text, "\"%llx-%llx-%lx\"", static_cast<unsigned long long>(st.st_size),
                                static_cast<unsigned long long>(st.st_mtim.tv_sec), static_cast<long>(st.st_mtim.tv_nsec));
    return std::string(text, static_cast<std::size_t>(n));
}

/// True if an If-None-Match value lists `etag` (weak comparison) or is "*".
bool none_match_hits(std::string_view header, std::string_view etag) {
    for (std::string_view tag : list_elements(header)) {
        if (tag == "*") return true;
        if (tag.starts_with("W/")) tag.remove_prefix(2);
        if (tag == etag) return true;
    }
    return false;
}

struct byte_range {
    std::uint64_t first, last;  // inclusive
};

/// The single range of a Range header over a file of `size` bytes: nullopt to serve it whole
/// (no Range, another unit, several ranges, malformed: RFC 9110 lets a server ignore those);
/// a range with first > last when it cannot be satisfied (416).
std::optional<byte_range> requested_range(std::string_view header, std::uint64_t size) {
    if (!header.starts_with("bytes=")) return std::nullopt;
    header.remove_prefix(6);
    if (header.find(',') != std::string_view::npos) return std::nullopt;
    const std::size_t dash = header.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const auto number = [](std::string_view s) -> std::optional<std::uint64_t> {
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
        return v;
    };
    const std::string_view from = header.substr(0, dash), to = header.substr(dash + 1);
    const byte_range unsatisfiable{1, 0};
    if (from.empty()) {  // the last N bytes
        const auto n = number(to);
        if (!n) return std::nullopt;
        if (*n == 0 || size == 0) return unsatisfiable;
        return byte_range{size - std::min(*n, size), size - 1};
    }
    const auto first = number(from);
    const auto last = to.empty() ? std::optional<std::uint64_t>(UINT64_MAX) : number(to);
    if (!first || !last || *last < *first) return std::nullopt;
    if (*first >= size) return unsatisfiable;
    return byte_range{*first, std::min(*last, size - 1)};
}

}  // namespace

static_directory::static_directory(std::string directory, static_options options)
    : directory_(std::move(directory)), options_(std::move(options)) {
    root_ = ::open(directory_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_ < 0)
        throw std::system_error(errno, std::generic_category(), "http::server::static_files: cannot open directory \"" + directory_ + "\"");
}

static_directory::~static_directory() { ::close(root_); }

task<response> static_directory::serve(request& req, std::size_t prefix_segments) const {
    const auto& segments = req.segments();
    std::string relative;
    for (std::size_t i = prefix_segments; i < segments.size(); ++i) {
        const bool last = i + 1 == segments.size();
        if (last && segments[i].empty()) break;  // ".../": the directory itself
        if (!acceptable_segment(segments[i], options_.serve_hidden)) co_return response::text("Not Found\n", 404);
        relative.append(relative.empty() ? "" : "/").append(segments[i]);
    }
    const bool names_directory = segments.size() > prefix_segments && segments.back().empty();
    // open and stat may block on a slow disk: on a worker, which a cancelled request stops
    // waiting for (the job owns what it uses; an fd it opens after that is closed with its result).
    const auto open_it = [self = shared_from_this(), relative, names_directory] {
        return self->open_file(relative, names_directory);
    };
    opened_file found = co_await to_thread(abandon_on_cancel, open_it);
    if (found.status == 301) {  // to the path as the client spelled it (still escaped), plus '/'
        const std::string_view target = req.target();
        const std::string_view spelled = target.substr(0, target.find('?'));
        response moved(301);
        moved.headers().add("Location", (spelled.starts_with('/') ? std::string(spelled) : req.path()) + "/");
        co_return moved;
    }
    if (found.status != 200) co_return response::text(std::string(reason_phrase(found.status)) + "\n", found.status);
    co_return answer(req, std::move(found.file), found.st, relative.empty() ? options_.index : relative);
}

/// Worker thread: the file `relative` names beneath the root (its index for a directory).
static_directory::opened_file static_directory::open_file(const std::string& relative, bool names_directory) const {
    opened_file out;
    const auto fail = [&out](int error) {
        out.status = error == EACCES || error == EPERM ? 403 : 404;  // EXDEV, ELOOP: outside the root
        return std::move(out);
    };
    const int fd = open_beneath(root_, relative.empty() ? "." : relative);
    if (fd < 0) return fail(errno);
    out.file = file_handle(fd);
    if (::fstat(fd, &out.st) != 0) return fail(errno);
    if (S_ISDIR(out.st.st_mode)) {
        if (!names_directory) {
            out.status = 301;  // "/docs" -> "/docs/", so that relative links resolve
            return out;
        }
        if (options_.index.empty()) return fail(ENOENT);  // no listings
        const int index = open_beneath(fd, options_.index);
        if (index < 0) return fail(errno);
        out.file = file_handle(index);
        if (::fstat(index, &out.st) != 0) return fail(errno);
    }
    if (!S_ISREG(out.st.st_mode)) return fail(ENOENT);  // a device, a FIFO, a socket
    return out;
}

response static_directory::answer(const request& req, file_handle file, const struct stat& st, std::string_view name) const {
    const std::string etag = etag_of(st);
    const std::string modified = format_http_date(st.st_mtim.tv_sec);
    response r(200, {}, std::string(content_type_of(name)));
    r.headers().add("ETag", etag);
    r.headers().add("Last-Modified", modified);
    r.headers().add("Accept-Ranges", "bytes");
    r.headers().add("Cache-Control", options_.max_age.count() > 0 ? "max-age=" + std::to_string(options_.max_age.count()) : "no-cache");
    if (not_modified(req, etag, st.st_mtim.tv_sec)) {
        r.set_status(304);
        r.headers().erase("Content-Type");
        return r;
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    std::optional<byte_range> range;
    if (const auto header = req.headers().get("Range"); header && range_applies(req, etag, modified))
        range = requested_range(*header, size);
    if (range && range->first > range->last) {
        response refused = response::text("Range Not Satisfiable\n", 416);
        refused.headers().add("Content-Range", "bytes */" + std::to_string(size));
        return refused;
    }
    std::uint64_t offset = 0, length = size;
    if (range) {
        offset = range->first;
        length = range->last - range->first + 1;
        r.set_status(206);
        r.headers().add("Content-Range", "bytes " + std::to_string(range->first) + "-" + std::to_string(range->last) +
                                             "/" + std::to_string(size));
    }
    r.file_.emplace(file_part{std::make_shared<file_handle>(std::move(file)), offset, length});
    return r;
}

}  // namespace corio::http::detail

namespace corio::http {

task<response> response::from_file(corio::file f, std::string content_type, int status) {
    const std::uint64_t size = co_await f.size();
    // Refused here, not by a sendfile failing after the head went out.
    if ((::fcntl(f.native_handle(), F_GETFL) & O_ACCMODE) == O_WRONLY)
        corio::detail::throw_file_error("response::from_file (not open for reading)", f.path(), EBADF);
    const std::uint64_t offset = std::min(f.position(), size);
    const int fd = ::fcntl(f.native_handle(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) corio::detail::throw_file_error("dup", f.path(), errno);
    response r(status, {}, std::move(content_type));
    r.file_.emplace(detail::file_part{std::make_shared<detail::file_handle>(fd), offset, size - offset});
    co_return r;
}

}  // namespace corio::http

namespace corio::http::detail {

/// RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since.
bool static_directory::not_modified(const request& req, std::string_view etag, std::time_t modified) {
    if (const auto none_match = req.headers().get("If-None-Match")) return none_match_hits(*none_match, etag);
    if (const auto since = req.headers().get("If-Modified-Since"))
        if (const auto t = parse_http_date(*since)) return modified <= *t;
    return false;
}

/// If-Range: the range only if the client's copy is still the current one.
bool static_directory::range_applies(const request& req, std::string_view etag, std::string_view modified) {
    const auto if_range = req.headers().get("If-Range");
    return !if_range || *if_range == etag || *if_range == modified;
}

}  // namespace corio::http::detail
