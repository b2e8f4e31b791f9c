// corio::file, read_file and write_file on real files in a temporary directory: every mode,
// round trips, the read limit, typed errors naming the path, write_file's atomicity when the
// write fails or is cancelled, cancellation of reads, async_with closing, no fd leaked.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/async_with.hpp>
#include <corio/corio.hpp>
#include <corio/file.hpp>

#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

using namespace std::chrono_literals;
using corio::file;
using corio::file_mode;
using corio_test::expect_throws;
using corio_test::open_fd_count;
using corio_test::run_virtual;
namespace fs = std::filesystem;

namespace {

std::string contents_of(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void put(const fs::path& path, const std::string& content) { std::ofstream(path, std::ios::binary) << content; }

std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937 rng(seed);
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    return bytes;
}

/// The names in `dir` other than `keep` (a temporary file left behind shows up here).
std::vector<std::string> others_in(const fs::path& dir, const std::string& keep) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename() != keep) names.push_back(entry.path().filename().string());
    return names;
}

class file_test : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/corio-file-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        fds_before_ = open_fd_count();
    }
    void TearDown() override {
        fs::remove_all(dir_);
        EXPECT_EQ(open_fd_count(), fds_before_) << "an fd leaked";
    }
    std::string at(const std::string& name) const { return (dir_ / name).string(); }

    fs::path dir_;
    std::size_t fds_before_ = 0;
};

TEST_F(file_test, every_mode_does_what_it_says) {
    run_virtual([this]() -> corio::task<> {
        const std::string path = at("modes.txt");
        file w = co_await file::open(path, file_mode::write);  // creates
        co_await w.write_all("hello world");
        EXPECT_EQ(w.position(), 11u);
        co_await w.aclose();
        EXPECT_FALSE(w.is_open());
        EXPECT_EQ(contents_of(path), "hello world");

        file a = co_await file::open(path, file_mode::append);
        co_await a.write_all("!\n");
        co_await a.aclose();
        EXPECT_EQ(contents_of(path), "hello world!\n");

        file rw = co_await file::open(path, file_mode::read_write);  // not truncated
        co_await rw.write_all("HELLO");
        EXPECT_EQ(co_await rw.read_all(), " world!\n");
        co_await rw.aclose();
        EXPECT_EQ(contents_of(path), "HELLO world!\n");

        file t = co_await file::open(path, file_mode::write);  // truncates
        co_await t.aclose();
        EXPECT_EQ(contents_of(path), "");

        file r = co_await file::open(path);
        co_await expect_throws<corio::file_error>(r.write_all("x"), "write \"" + path + "\": Bad file descriptor");

        co_await expect_throws<corio::file_exists_error>(file::open(path, file_mode::create_new),
                                                         "open (create_new) \"" + path + "\": File exists");
        file fresh = co_await file::open(at("new.txt"), file_mode::create_new, 0600);
        co_await fresh.write_all("secret");
        co_await fresh.aclose();
        EXPECT_EQ(fs::status(at("new.txt")).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
    });
}

TEST_F(file_test, a_missing_file_is_a_typed_error_naming_the_path_and_errno) {
    run_virtual([this]() -> corio::task<> {
        const std::string missing = at("missing.txt");
        try {
            co_await file::open(missing);
            ADD_FAILURE() << "opened a missing file";
        } catch (const corio::file_not_found_error& e) {
            EXPECT_EQ(std::string(e.what()), "open (read) \"" + missing + "\": No such file or directory");
            EXPECT_EQ(e.path(), missing);
            EXPECT_EQ(e.error_number(), ENOENT);
        }
        co_await expect_throws<corio::file_not_found_error>(file::open(missing, file_mode::read_write), missing);
        co_await expect_throws<corio::file_not_found_error>(corio::read_file(missing), missing);
        co_await expect_throws<corio::file_not_found_error>(corio::write_file(at("no/such/dir/x"), "data"), "no/such/dir");
        EXPECT_FALSE(fs::exists(missing));
    });
}

// A FIFO with no writer used to hold a worker in open() (and a cancelled open waited for it).
TEST_F(file_test, a_fifo_is_refused_at_open_without_waiting_for_a_peer) {
    const std::string fifo = at("fifo");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    corio::run([&fifo]() -> corio::task<> {
        co_await expect_throws<corio::file_error>(corio::fail_after(5s, [&fifo] { return file::open(fifo); }),
                                                  "\"" + fifo + "\": a FIFO or socket");
        co_await expect_throws<corio::file_error>(corio::fail_after(5s, [&fifo] { return corio::read_file(fifo); }), fifo);
        file null = co_await file::open("/dev/null", file_mode::read_write);  // a device still opens
        co_await null.write_all("gone");
        co_await null.aclose();
    }());
}

TEST_F(file_test, read_some_read_all_and_write_all_round_trip) {
    const std::string big = random_bytes((3u << 20) + 17, 1);  // several write pieces and read pieces
    run_virtual([this, &big]() -> corio::task<> {
        const std::string path = at("big.bin");
        file out = co_await file::open(path, file_mode::write);
        co_await out.write_all(big);
        co_await out.sync();
        EXPECT_EQ(co_await out.size(), big.size());
        co_await out.aclose();
        EXPECT_EQ(co_await corio::read_file(path), big);

        file in = co_await file::open(path);
        std::array<char, 10> buffer{};
        const std::size_t n = co_await in.read_some(buffer);
        CO_ASSERT_EQ(n, buffer.size());
        EXPECT_EQ(std::string(buffer.data(), n), big.substr(0, 10));
        EXPECT_EQ(in.position(), 10u);
        EXPECT_EQ(co_await in.read_all(), big.substr(10));
        EXPECT_EQ(co_await in.read_some(buffer), 0u);  // end of file
        in.close();
        in.close();  // idempotent
    });
}

TEST_F(file_test, read_all_past_its_limit_throws_and_takes_nothing) {
    put(at("hundred.txt"), std::string(100, 'x'));
    run_virtual([this]() -> corio::task<> {
        const std::string path = at("hundred.txt");
        file f = co_await file::open(path);
        try {
            co_await f.read_all(99);
            ADD_FAILURE() << "read past the limit";
        } catch (const corio::file_too_large_error& e) {
            EXPECT_EQ(std::string(e.what()), "read_all \"" + path + "\": the file holds more than the limit of 99 bytes");
            EXPECT_EQ(e.error_number(), EFBIG);
        }
        EXPECT_EQ(f.position(), 0u);
        EXPECT_EQ((co_await f.read_all(100)).size(), 100u);
        co_await expect_throws<corio::file_too_large_error>(corio::read_file(path, 10), path);
        EXPECT_EQ((co_await corio::read_file(path, 100)).size(), 100u);
    });
}

TEST_F(file_test, write_file_replaces_the_target_atomically) {
    put(at("config"), "old");
    run_virtual([this]() -> corio::task<> {
        co_await corio::write_file(at("config"), "new contents", 0640);
        EXPECT_EQ(contents_of(at("config")), "new contents");
        EXPECT_EQ(fs::status(at("config")).permissions() & fs::perms::all,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
        EXPECT_TRUE(others_in(dir_, "config").empty());
        co_await corio::write_file(at("fresh"), "");  // a new, empty file
        EXPECT_TRUE(fs::exists(at("fresh")));
    });
}

TEST_F(file_test, write_file_that_fails_mid_way_leaves_the_target_and_no_temporary) {
    put(at("config"), "old");
    // A real write failure: past RLIMIT_FSIZE, write() fails with EFBIG (SIGXFSZ ignored).
    struct rlimit saved {};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limited = saved;
    limited.rlim_cur = 1 << 20;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
    const std::string data = random_bytes(3u << 20, 2);
    run_virtual([this, &data]() -> corio::task<> {
        try {
            co_await corio::write_file(at("config"), data);
            ADD_FAILURE() << "wrote past RLIMIT_FSIZE";
        } catch (const corio::file_error& e) {
            EXPECT_EQ(e.error_number(), EFBIG) << e.what();
            EXPECT_NE(std::string(e.what()).find("write \"" + dir_.string() + "/.config.tmp-"), std::string::npos) << e.what();
        }
    });
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, old_handler);
    EXPECT_EQ(contents_of(at("config")), "old");
    EXPECT_TRUE(others_in(dir_, "config").empty());
}

TEST_F(file_test, write_file_cancelled_mid_way_leaves_the_target_and_no_temporary) {
    put(at("config"), "old");
    const std::string data = random_bytes(64u << 20, 3);
    run_virtual([this, &data]() -> corio::task<> {
        auto writing = corio::spawn(corio::write_file(at("config"), data));
        for (int i = 0; i < 100'000 && others_in(dir_, "config").empty(); ++i) co_await corio::sleep(100us);
        writing.cancel();
        EXPECT_THROW(co_await writing, corio::cancelled_error);
    });
    EXPECT_EQ(contents_of(at("config")), "old");
    EXPECT_TRUE(others_in(dir_, "config").empty());
}

TEST_F(file_test, a_cancelled_read_consumes_nothing) {
    const std::string content = random_bytes(4096, 4);
    put(at("data.bin"), content);
    run_virtual([this, &content]() -> corio::task<> {
        file f = co_await file::open(at("data.bin"));
        std::string received;  // what the reads that were not cancelled returned
        int cancelled = 0;
        for (int round = 0; round < 40; ++round) {  // cancelled with the job pending, running or done
            std::array<char, 16> buffer{};
            auto reading = corio::spawn([&f, &buffer]() -> corio::task<std::size_t> { co_return co_await f.read_some(buffer); });
            for (int i = 0; i < round % 3; ++i) co_await corio::sleep(0ms);
            reading.cancel();
            try {
                const std::size_t n = co_await reading;
                received.append(buffer.data(), n);
            } catch (const corio::cancelled_error&) {
                ++cancelled;
            }
            EXPECT_EQ(f.position(), received.size());
        }
        EXPECT_GT(cancelled, 0);
        received += co_await f.read_all();
        EXPECT_EQ(received, content);  // nothing lost to a cancelled read
    });
}

TEST_F(file_test, a_cancelled_write_all_leaves_a_prefix_and_its_position_after_it) {
    const std::string data = random_bytes(32u << 20, 5);
    run_virtual([this, &data]() -> corio::task<> {
        const std::string path = at("out.bin");
        file f = co_await file::open(path, file_mode::write);
        auto writing = corio::spawn([&f, &data]() -> corio::task<> { co_await f.write_all(data); });
        for (int i = 0; i < 100'000 && fs::file_size(path) == 0; ++i) co_await corio::sleep(100us);
        writing.cancel();
        EXPECT_THROW(co_await writing, corio::cancelled_error);
        const std::uint64_t written = f.position();
        EXPECT_GT(written, 0u);
        EXPECT_LT(written, data.size());
        co_await f.aclose();
        EXPECT_EQ(fs::file_size(path), written);
        EXPECT_TRUE(contents_of(path) == data.substr(0, written)) << "the file is not a prefix of the data";
    });
}

TEST_F(file_test, one_operation_at_a_time_and_none_on_a_closed_file) {
    put(at("data.txt"), std::string(1 << 20, 'x'));
    run_virtual([this]() -> corio::task<> {
        file f = co_await file::open(at("data.txt"));
        auto reading = corio::spawn([&f]() -> corio::task<std::string> { co_return co_await f.read_all(); });
        co_await corio::sleep(0ms);  // reading is in flight
        co_await expect_throws<std::logic_error>(f.size(), "while another operation is in flight");
        EXPECT_EQ((co_await reading).size(), std::size_t{1} << 20);
        f.close();
        co_await expect_throws<std::logic_error>(f.size(), "on a closed file \"" + at("data.txt") + "\"");
        co_await f.aclose();  // closed already: nothing to do
    });
}

TEST_F(file_test, async_with_closes_the_file_on_every_path) {
    put(at("data.txt"), "payload");
    run_virtual([this]() -> corio::task<> {
        const std::size_t before = open_fd_count();
        std::string read = co_await corio::async_with(file::open(at("data.txt")), [](file& f) -> corio::task<std::string> {
            co_return co_await f.read_all();
        });
        EXPECT_EQ(read, "payload");
        EXPECT_EQ(open_fd_count(), before);

        const auto failing = [](file& f) -> corio::task<> {
            co_await f.read_all();
            throw std::runtime_error("body failed");
        };
        co_await expect_throws<std::runtime_error>(corio::async_with(file::open(at("data.txt")), failing), "body failed");
        EXPECT_EQ(open_fd_count(), before);

        const auto slow = [](file&) -> corio::task<> { co_await corio::sleep(1h); };
        co_await expect_throws<corio::timeout_error>(corio::wait_for(corio::async_with(file::open(at("data.txt")), slow), 1s));
        EXPECT_EQ(open_fd_count(), before);
    });
}

}  // namespace
