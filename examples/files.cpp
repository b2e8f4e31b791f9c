// Files: an atomic write_file, a bounded read_file, a log opened for appending and read back in
// pieces, async_with closing a file, and the typed error of a missing file.
#include <corio/corio.hpp>
#include <corio/file.hpp>

#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

corio::task<> files(std::string dir) {
    const std::string config = dir + "/app.conf";
    // [snippet whole]
    // Atomic: readers see the old file or the new one, never half of it.
    co_await corio::write_file(config, "port = 8080\n");
    std::string text = co_await corio::read_file(config);  // bounded: file_too_large_error past 64 MiB
    // [end snippet]
    std::printf("app.conf: %s", text.c_str());

    const std::string path = dir + "/events.log";
    {
        // [snippet append]
        corio::file log = co_await corio::file::open(path, corio::file_mode::append);
        co_await log.write_all("started\n");
        co_await log.sync();  // on the disk before we go on
        co_await log.aclose();
        // [end snippet]

        // [snippet read]
        corio::file in = co_await corio::file::open(path);
        std::array<char, 4096> buffer;
        for (;;) {
            const std::size_t n = co_await in.read_some(buffer);  // 0 at the end of the file
            if (n == 0) break;
            std::fwrite(buffer.data(), 1, n, stdout);
        }
        // [end snippet]
    }

    // Like `async with open(path) as f`: closed on every path.
    const auto size_of = [](corio::file& f) -> corio::task<std::uint64_t> { co_return co_await f.size(); };
    const std::uint64_t size = co_await corio::async_with(corio::file::open(path), size_of);
    std::printf("events.log holds %llu bytes\n", static_cast<unsigned long long>(size));

    try {
        co_await corio::read_file(dir + "/missing.conf");
    } catch (const corio::file_not_found_error& e) {
        std::printf("%s\n", e.what());  // open (read) "/tmp/.../missing.conf": No such file or directory
    }
}

int main() {
    char pattern[] = "/tmp/corio-files-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return 1;
    corio::run(files(pattern));
    std::filesystem::remove_all(pattern);
}
