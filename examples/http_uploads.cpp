// Uploads with corio's HTTP client and server: a multipart form with a file streamed from
// disk, read by the server part by part as it arrives; a URL-encoded form; a body produced
// by a generator and sent chunked.
#include <corio/corio.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

using namespace std::chrono_literals;
namespace http = corio::http;

/// Receives a form whose files may be large: each part is read as it streams in, never held
/// whole (a route with stream_body; limits per part and in total).
void add_upload_route(http::server& app) {
    http::route_options streamed;
    streamed.stream_body = true;
    streamed.max_body_size = 1ull << 30;
    app.post("/upload", [](http::request& req) -> corio::task<http::response> {
        std::size_t size = 0;
        // [snippet receive]
        auto parts = req.multipart();
        while (std::optional<http::multipart_part> part = co_await parts.next()) {
            if (!part->is_file()) continue;  // a plain field: co_await part->text() reads it
            auto body = part->body_stream();
            while (std::optional<std::string_view> piece = co_await body.next()) size += piece->size();
        }
        // [end snippet]
        co_return http::response::text(std::to_string(size) + " bytes of files");
    }, streamed);
}

void add_form_routes(http::server& app) {
    app.post("/signup", [](http::request& req) -> corio::task<http::response> {
        const corio::http::query_params fields = co_await req.form();  // URL-encoded or multipart
        co_return http::response::text("hello " + std::string(fields.get("name").value_or("?")));
    });
    app.post("/logs", [](http::request& req) -> corio::task<http::response> {
        co_return http::response::text(std::string(req.headers().get("Transfer-Encoding").value_or("")) + ": " + req.body());
    });
}

void expect(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

corio::async_generator<std::string> log_lines() {
    for (int i = 1; i <= 3; ++i) {
        co_await corio::sleep(5ms);  // e.g. produced as it happens
        co_yield "line " + std::to_string(i) + "\n";
    }
}

corio::task<> exercise(http::server& app, std::string photo_path) {
    http::client_session session({.base_url = "http://" + app.local_endpoint()->to_string() + "/"});
    // [snippet send]
    http::form_data form;
    form.field("title", "holiday").file("photo", photo_path, "image/jpeg");
    auto response = co_await session.post("upload", http::request_options().form(std::move(form)));
    // [end snippet]
    expect(co_await response.text() == "1048576 bytes of files", "a 1 MiB file streamed from disk, read part by part");
    const http::query_params fields{{"name", "Jörg"}};
    auto signup = co_await session.post("signup", http::request_options().form(fields));
    expect(co_await signup.text() == "hello Jörg", "a URL-encoded form");
    auto logs = co_await session.post("logs", http::request_options().body(log_lines(), "text/plain"));
    expect(co_await logs.text() == "chunked: line 1\nline 2\nline 3\n", "a generator's lines sent chunked as produced");
    co_await session.aclose();
}

int main() {
    const auto dir = std::filesystem::temp_directory_path() / ("corio-example-uploads-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string photo = (dir / "photo.jpg").string();
    std::ofstream(photo, std::ios::binary) << std::string(1 << 20, 'x');
    http::server app;
    add_upload_route(app);
    add_form_routes(app);
    int status = 0;
    try {
        corio::run(corio::invoke([&app, photo]() -> corio::task<> {
            co_await app.start(corio::net::endpoint::parse("127.0.0.1", 0));
            co_await exercise(app, photo);
            app.stop(1s);
            co_await app.wait_closed();
        }));
    } catch (const std::exception& e) {
        std::printf("failed: %s\n", e.what());
        status = 1;
    }
    std::filesystem::remove_all(dir);
    return status;
}
