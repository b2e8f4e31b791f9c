// multipart.cpp — request::multipart() and request::form() over the incremental parser
// (multipart_parser.hpp), the parts they yield, and form_data's encoding for the client.
#include "corio/http/multipart.hpp"

#include <random>
#include <stdexcept>

#include "corio/http/server.hpp"
#include "corio/http/url.hpp"
#include "multipart_parser.hpp"

namespace corio::http {

namespace detail {

/// The parser with the request body it reads from, shared by the part generator and the parts
/// it yields. Parts are numbered from 1; only the current one may read.
class multipart_stream {
public:
    multipart_stream(async_generator<std::string_view> body, std::string_view boundary, const multipart_options& options)
        : body_(std::move(body)), parser_(boundary, options) {}

    /// Skips what is left of the current part; the next part, or nullopt after the last.
    task<std::optional<multipart_part>> next_part(const std::shared_ptr<multipart_stream>& self);
    /// The current part's next body piece (nullopt at its end); `index` must be the current part.
    task<std::optional<std::string_view>> next_piece(std::size_t index);

private:
    /// The parser's next event, fed from the body as it needs.
    task<multipart_parser::event> next_event();
    multipart_part describe_part(const std::shared_ptr<multipart_stream>& self) const;

    async_generator<std::string_view> body_;
    multipart_parser parser_;
    std::size_t current_ = 0;  // the part being read (0: none yet)
    bool in_body_ = false;     // the current part's body has not ended
};

task<multipart_parser::event> multipart_stream::next_event() {
    for (;;) {
        const multipart_parser::event e = parser_.next();
        if (e != multipart_parser::event::need_more) co_return e;
        const std::optional<std::string_view> piece = co_await body_.next();  // cancel-safe: nothing is lost
        if (!piece) {
            parser_.finish();  // throws unless the closing boundary came
            co_return multipart_parser::event::end;
        }
        parser_.feed(*piece);
    }
}

task<std::optional<multipart_part>> multipart_stream::next_part(const std::shared_ptr<multipart_stream>& self) {
    while (in_body_) {
        const multipart_parser::event skipped = co_await next_event();
        in_body_ = skipped != multipart_parser::event::part_end;
    }
    const multipart_parser::event next = co_await next_event();
    if (next == multipart_parser::event::end) co_return std::nullopt;
    ++current_;
    in_body_ = true;
    co_return describe_part(self);
}

task<std::optional<std::string_view>> multipart_stream::next_piece(std::size_t index) {
    if (index != current_)
        throw std::logic_error("multipart_part: read after the next part was asked for (read each part before moving on)");
    if (!in_body_) co_return std::nullopt;
    const multipart_parser::event next = co_await next_event();
    if (next == multipart_parser::event::body) co_return parser_.piece();
    in_body_ = false;  // part_end
    co_return std::nullopt;
}

namespace {

/// What a client's filename may safely be used as: its last path component, without control
/// characters; "" for "." and "..".
std::string safe_filename(std::string_view sent) {
    const std::size_t slash = sent.find_last_of("/\\");
    if (slash != std::string_view::npos) sent.remove_prefix(slash + 1);
    std::string name;
    for (const char c : sent)
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) name += c;
    return name == "." || name == ".." ? std::string() : name;
}

/// The filename of a Content-Disposition: filename*=UTF-8''... (RFC 6266) before filename.
std::optional<std::string> sent_filename(std::string_view disposition) {
    if (std::optional<std::string> extended = field_parameter(disposition, "filename*")) {
        const std::size_t quote = extended->find("''");
        if (quote != std::string::npos && iequals(extended->substr(0, quote), "UTF-8")) try {
                return percent_decode(std::string_view(*extended).substr(quote + 2));
            } catch (const url_error&) {
                throw form_error(400, "malformed multipart body: a part's filename* has an invalid percent-encoding");
            }
    }
    return field_parameter(disposition, "filename");
}

}  // namespace

multipart_part multipart_stream::describe_part(const std::shared_ptr<multipart_stream>& self) const {
    multipart_part part;
    part.stream_ = self;
    part.index_ = current_;
    part.headers_ = parser_.part_headers();
    const std::string_view disposition = part.headers_.get("Content-Disposition").value_or("");
    std::optional<std::string> name = field_parameter(disposition, "name");
    if (!iequals(value_without_parameters(disposition), "form-data") || !name)
        throw form_error(400, "malformed multipart body: part " + std::to_string(current_) +
                                  " has no Content-Disposition: form-data with a name");
    part.name_ = std::move(*name);
    if (std::optional<std::string> filename = sent_filename(disposition)) {
        part.is_file_ = true;
        part.filename_ = safe_filename(*filename);
    }
    part.content_type_ = std::string(part.headers_.get("Content-Type").value_or("text/plain"));
    return part;
}

namespace {

async_generator<multipart_part> parts_of(std::shared_ptr<multipart_stream> stream) {
    while (std::optional<multipart_part> part = co_await stream->next_part(stream)) co_yield std::move(*part);
}

}  // namespace

}  // namespace detail

async_generator<std::string_view> multipart_part::body_stream() {
    return corio::detail::generate_from<std::string_view>(
        [stream = stream_, index = index_] { return stream->next_piece(index); });
}

task<std::string> multipart_part::text() {
    std::string whole;
    auto pieces = body_stream();
    while (const std::optional<std::string_view> piece = co_await pieces.next()) whole.append(*piece);
    co_return whole;
}

async_generator<multipart_part> request::multipart(multipart_options options) {
    const std::string boundary = detail::multipart_boundary(headers_.get("Content-Type").value_or(""));
    return detail::parts_of(std::make_shared<detail::multipart_stream>(body_stream(), boundary, options));
}

task<query_params> request::form(multipart_options options) {
    const std::string_view content_type = headers_.get("Content-Type").value_or("");
    query_params fields;
    if (!iequals(value_without_parameters(content_type), "application/x-www-form-urlencoded")) {
        auto parts = multipart(options);  // throws form_error 415 for other types
        while (std::optional<multipart_part> part = co_await parts.next()) {
            std::string value = co_await part->text();
            fields.add(part->name(), std::move(value));
        }
        co_return fields;
    }
    std::string encoded;
    auto pieces = body_stream();
    while (const std::optional<std::string_view> piece = co_await pieces.next()) {
        if (encoded.size() + piece->size() > options.max_total_size)
            throw form_error(413, "the form is larger than " + std::to_string(options.max_total_size) + " bytes");
        encoded.append(*piece);
    }
    try {
        fields = query_params::parse(encoded);
    } catch (const url_error&) {
        throw form_error(400, "the URL-encoded form has an invalid percent-encoding");
    }
    co_return fields;
}

// ---- form_data ----

namespace {

std::string random_boundary() {
    thread_local std::mt19937_64 random{std::random_device{}()};
    constexpr std::string_view digits = "0123456789abcdef";
    std::string boundary = "corio-form-";
    for (int word = 0; word < 2; ++word)
        for (std::uint64_t bits = random(), i = 0; i < 16; ++i, bits >>= 4) boundary += digits[bits & 15];
    return boundary;
}

/// `text`, for a part header; CR, LF and NUL (which would end the header and forge another)
/// are refused.
std::string_view header_safe(std::string_view what, std::string_view text) {
    if (breaks_line(text))
        throw std::invalid_argument("form_data: the " + std::string(what) + " holds CR, LF or NUL");
    return text;
}

/// `text` as a quoted-string for a part header (refused as header_safe() does).
std::string quoted(std::string_view what, std::string_view text) {
    std::string out = "\"";
    for (const char c : header_safe(what, text)) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string part_head(const std::string& boundary, std::string_view name, const std::string* filename,
                      std::string_view content_type) {
    std::string head = "--" + boundary + "\r\nContent-Disposition: form-data; name=" + quoted("field name", name);
    if (filename != nullptr) {
        head += "; filename=" + quoted("filename", *filename);
        head += "\r\nContent-Type: ";
        head += header_safe("content type", content_type);
    }
    return head + "\r\n\r\n";
}

}  // namespace

form_data::form_data() : boundary_(random_boundary()), content_type_("multipart/form-data; boundary=" + boundary_) {}

form_data& form_data::field(std::string name, std::string value) & {
    parts_.push_back({part_head(boundary_, name, nullptr, {}), std::move(value), {}});
    return *this;
}

form_data& form_data::file(std::string name, std::string path, std::string content_type) & {
    const std::string filename = path.substr(path.find_last_of('/') + 1);
    if (filename.empty()) throw std::invalid_argument("form_data: the path \"" + path + "\" names no file");
    parts_.push_back({part_head(boundary_, name, &filename, content_type), {}, std::move(path)});
    return *this;
}

form_data& form_data::file_content(std::string name, std::string filename, std::string content, std::string content_type) & {
    parts_.push_back({part_head(boundary_, name, &filename, content_type), std::move(content), {}});
    return *this;
}

std::vector<form_data::segment> form_data::encode() const {
    std::vector<segment> out;
    std::string bytes;
    for (std::size_t i = 0; i < parts_.size(); ++i) {
        if (i > 0) bytes += "\r\n";  // ends the previous part's body
        bytes += parts_[i].head;
        if (parts_[i].path.empty()) {
            bytes += parts_[i].content;
            continue;
        }
        out.push_back({std::move(bytes), {}});
        out.push_back({{}, parts_[i].path});
        bytes.clear();
    }
    if (!parts_.empty()) bytes += "\r\n";
    bytes += "--" + boundary_ + "--\r\n";
    out.push_back({std::move(bytes), {}});
    return out;
}

}  // namespace corio::http
