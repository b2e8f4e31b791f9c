// A project outside corio's tree that links corio::corio: found with find_package(corio) after an
// install (the package_consumer test, CMakeLists.txt here) or added with add_subdirectory() (the
// subdirectory_consumer test, subdirectory/CMakeLists.txt).
#include <corio/corio.hpp>

#include <chrono>
#include <cstdint>

corio::task<int> answer() {
    co_await corio::sleep(std::chrono::milliseconds(1));
    co_return 42;
}

// c-ares, OpenSSL and zlib are private dependencies of corio, absent from this project's link
// line: these calls link only if corio's link interface still brings them (a static libcorio).
corio::task<bool> private_dependencies_link() {
    const auto addresses = co_await corio::net::resolve("127.0.0.1", 80);  // c-ares
    co_return addresses.size() == 1;
}

int main() {
    const corio::net::tls_context tls = corio::net::tls_context::client();  // OpenSSL
    const corio::http::content_decoder gzip("gzip");                          // zlib
    if (tls.native_handle() == nullptr || gzip.identity()) return 1;
    if (!corio::run(private_dependencies_link())) return 1;
    return corio::run(answer()) == 42 ? 0 : 1;
}
