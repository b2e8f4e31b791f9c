// corio::process and corio::run_process with real programs: exit codes and signals, pipes both
// ways (a stdin -> stdout round trip through cat, several MB without deadlock), /dev/null,
// environment and cwd, spawn failures, timeouts and cancellation terminating and reaping the
// child, bounded capture, the destructor's kill-and-reap, that no fd or zombie is left and no fd
// of ours reaches a child, limits too long to count, and wait() polling without pidfd_open.
// Real processes take real time: the loops run in real time with short limits (<= 1 s).
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/corio.hpp>
#include <corio/process.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <csignal>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

/// A test body on a real-time loop, failed (not hung) after 20 s.
template <class Body>
void run_real(Body body) {
    corio::testing::run_test(std::move(body), {.deadlock_after = 20s, .virtual_time = false});
}

/// This process's children (zombies included) that any of its threads started.
std::vector<pid_t> child_pids() {
    std::vector<pid_t> pids;
    DIR* tasks = ::opendir("/proc/self/task");
    if (tasks == nullptr) return pids;
    while (const dirent* entry = ::readdir(tasks)) {
        if (entry->d_name[0] == '.') continue;
        std::ifstream children(std::string("/proc/self/task/") + entry->d_name + "/children");
        for (pid_t pid; children >> pid;) pids.push_back(pid);
    }
    ::closedir(tasks);
    return pids;
}

bool gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

/// Waits (real time, up to 2 s) until `pid` is reaped: no zombie left.
corio::task<bool> reaped_soon(pid_t pid) {
    for (int i = 0; i < 200 && !gone(pid); ++i) co_await corio::sleep(10ms);
    co_return gone(pid);
}

corio::process_options piped(bool in, bool out, bool err = false) {
    corio::process_options options;
    if (in) options.in = corio::stdio::pipe;
    if (out) options.out = corio::stdio::pipe;
    if (err) options.err = corio::stdio::pipe;
    return options;
}

TEST(process, exit_codes) {
    run_real([]() -> corio::task<> {
        auto ok = corio::process::spawn({"true"});
        const corio::exit_status done = co_await ok.wait();
        EXPECT_TRUE(done.success());
        EXPECT_TRUE(done.exited());
        EXPECT_EQ(done.exit_code(), 0);
        EXPECT_EQ(done.signal(), 0);
        const corio::exit_status again = co_await ok.wait();  // a reaped child keeps its status
        EXPECT_EQ(again, done);
        EXPECT_FALSE(ok.kill());  // reaped: nothing to signal (the pid may be another's by now)

        auto failing = corio::process::spawn({"/bin/false"});
        const corio::exit_status failed = co_await failing.wait();
        EXPECT_FALSE(failed.success());
        EXPECT_EQ(failed.exit_code(), 1);
        EXPECT_EQ(failed.describe(), "exited with code 1");
    });
}

TEST(process, killed_by_signal) {
    run_real([]() -> corio::task<> {
        auto sleeper = corio::process::spawn({"/bin/sleep", "100"});
        EXPECT_GT(sleeper.pid(), 0);
        EXPECT_TRUE(sleeper.terminate());
        const corio::exit_status status = co_await sleeper.wait();
        EXPECT_FALSE(status.exited());
        EXPECT_EQ(status.signal(), SIGTERM);
        EXPECT_EQ(status.exit_code(), -SIGTERM);
        EXPECT_EQ(status.describe(), "killed by signal 15 (SIGTERM)");
        EXPECT_TRUE(gone(sleeper.pid()));

        auto other = corio::process::spawn({"/bin/sleep", "100"});
        other.kill();  // SIGKILL by default
        const corio::exit_status killed = co_await other.wait();
        EXPECT_EQ(killed, corio::exit_status::killed_by(SIGKILL));
    });
}

TEST(process, stdin_to_stdout_round_trip_through_cat) {
    run_real([]() -> corio::task<> {
        auto cat = corio::process::spawn({"/bin/cat"}, piped(true, true));
        co_await cat.write("hello ");
        co_await cat.write("world\n");
        cat.close_stdin();
        cat.close_stdin();  // idempotent
        const std::string echoed = co_await cat.read_all();
        EXPECT_EQ(echoed, "hello world\n");
        const corio::exit_status status = co_await cat.wait();
        EXPECT_TRUE(status.success());
    });
}

TEST(process, megabytes_both_ways_do_not_deadlock) {
    run_real([]() -> corio::task<> {
        // cat blocks writing stdout unless it is read while stdin is written: concurrently.
        std::string data(6 << 20, '\0');
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
        auto cat = corio::process::spawn({"/bin/cat"}, piped(true, true));
        const auto feed = [&]() -> corio::task<> {
            co_await cat.write(data);
            cat.close_stdin();
        };
        auto [fed, echoed] = co_await corio::gather(feed(), cat.read_all());
        static_cast<void>(fed);
        EXPECT_EQ(echoed.size(), data.size());
        EXPECT_TRUE(echoed == data);
        const corio::exit_status status = co_await cat.wait();
        EXPECT_TRUE(status.success());
    });
}

TEST(process, large_output_read_in_pieces) {
    run_real([]() -> corio::task<> {
        auto head = corio::process::spawn({"head", "-c", "8000000", "/dev/zero"}, piped(false, true));
        std::array<char, 4096> buffer;
        std::size_t total = 0;
        for (;;) {
            const std::size_t n = co_await head.read_some(buffer);
            if (n == 0) break;
            total += n;
        }
        EXPECT_EQ(total, 8000000u);
        const corio::exit_status status = co_await head.wait();
        EXPECT_TRUE(status.success());
    });
}

TEST(process, stderr_and_dev_null) {
    run_real([]() -> corio::task<> {
        auto ls = corio::process::spawn({"ls", "/no/such/dir"}, piped(false, true, true));
        const std::string err = co_await ls.read_all(corio::stream::err);
        const std::string out = co_await ls.read_all();
        EXPECT_NE(err.find("/no/such/dir"), std::string::npos) << err;
        EXPECT_EQ(out, "");
        const corio::exit_status status = co_await ls.wait();
        EXPECT_EQ(status.exit_code(), 2);

        corio::process_options options = piped(false, true);
        options.in = corio::stdio::null;  // cat reads end of input at once
        auto cat = corio::process::spawn({"cat"}, options);
        const std::string nothing = co_await cat.read_all();
        EXPECT_EQ(nothing, "");
        const corio::exit_status cat_status = co_await cat.wait();
        EXPECT_TRUE(cat_status.success());
        // Reading a stream that is not piped names it.
        co_await corio_test::expect_throws<corio::error>(cat.read_all(corio::stream::err), "read from stderr of [cat]");
    });
}

TEST(process, environment_and_working_directory) {
    run_real([]() -> corio::task<> {
        ::setenv("CORIO_PROCESS_TEST_PARENT", "inherited", 1);
        corio::process_options options = piped(false, true);
        options.env["CORIO_PROCESS_TEST"] = "added";
        auto env = corio::process::spawn({"env"}, options);
        const std::string all = co_await env.read_all();
        EXPECT_NE(all.find("CORIO_PROCESS_TEST=added\n"), std::string::npos);
        EXPECT_NE(all.find("CORIO_PROCESS_TEST_PARENT=inherited\n"), std::string::npos);
        co_await env.wait();

        options.clear_env = true;
        auto alone = corio::process::spawn({"/usr/bin/env"}, options);
        const std::string only = co_await alone.read_all();
        EXPECT_EQ(only, "CORIO_PROCESS_TEST=added\n");
        co_await alone.wait();

        corio::process_options in_tmp = piped(false, true);
        in_tmp.cwd = "/tmp";
        auto pwd = corio::process::spawn({"pwd"}, in_tmp);
        const std::string dir = co_await pwd.read_all();
        EXPECT_EQ(dir, "/tmp\n");
        co_await pwd.wait();
    });
}

TEST(process, spawn_failure_names_the_program_and_leaks_nothing) {
    run_real([]() -> corio::task<> {
        const std::size_t fds = corio_test::open_fd_count();
        try {
            auto never = corio::process::spawn({"corio-no-such-program", "x"}, piped(true, true, true));
            ADD_FAILURE() << "spawned pid " << never.pid();
        } catch (const corio::spawn_error& e) {
            EXPECT_EQ(e.code(), ENOENT);
            EXPECT_NE(std::string(e.what()).find("corio-no-such-program"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
        }
        corio::process_options bad_cwd;
        bad_cwd.cwd = "/no/such/dir";
        EXPECT_THROW(corio::process::spawn({"true"}, bad_cwd), corio::spawn_error);
        EXPECT_THROW(corio::process::spawn({}), corio::spawn_error);
        EXPECT_EQ(corio_test::open_fd_count(), fds);
        EXPECT_TRUE(child_pids().empty());
        co_return;
    });
}

TEST(process, shell_only_by_name) {
    run_real([]() -> corio::task<> {
        auto sh = corio::process::spawn_shell("echo $((6 * 7)); exit 3", piped(false, true));
        const std::string out = co_await sh.read_all();
        EXPECT_EQ(out, "42\n");
        const corio::exit_status status = co_await sh.wait();
        EXPECT_EQ(status.exit_code(), 3);
        // Without spawn_shell the words go to the program as they are: no expansion.
        auto echo = corio::process::spawn({"/bin/echo", "$((6 * 7))", ";", "exit"}, piped(false, true));
        const std::string literal = co_await echo.read_all();
        EXPECT_EQ(literal, "$((6 * 7)) ; exit\n");
        co_await echo.wait();
    });
}

TEST(process, write_to_a_child_that_closed_its_input) {
    run_real([]() -> corio::task<> {
        auto done = corio::process::spawn({"true"}, piped(true, false));
        co_await done.wait();
        co_await corio_test::expect_throws<corio::broken_pipe_error>(done.write("too late"), "the child closed its input");
        done.close_stdin();
        co_await corio_test::expect_throws<corio::error>(done.write("x"), "write to stdin of [true]");
    });
}

TEST(process, wait_is_cancel_safe) {
    run_real([]() -> corio::task<> {
        auto sleeper = corio::process::spawn({"sleep", "100"});
        co_await corio_test::expect_throws<corio::timeout_error>(corio::wait_for(sleeper.wait(), 50ms));
        EXPECT_FALSE(gone(sleeper.pid()));  // still running, still ours
        sleeper.kill();
        const corio::exit_status status = co_await sleeper.wait();  // waiting again loses nothing
        EXPECT_EQ(status.signal(), SIGKILL);
    });
}

TEST(process, several_tasks_wait_at_once) {
    run_real([]() -> corio::task<> {
        auto sleeper = corio::process::spawn({"sleep", "100"});
        auto first = corio::spawn(sleeper.wait());
        auto second = corio::spawn(sleeper.wait());
        co_await corio::sleep(20ms);
        EXPECT_FALSE(first.done());
        const corio::exit_status stopped = co_await sleeper.stop(1s);  // a third waiter
        const corio::exit_status a = co_await first;
        const corio::exit_status b = co_await second;
        EXPECT_EQ(stopped.signal(), SIGTERM);
        EXPECT_EQ(a, stopped);
        EXPECT_EQ(b, stopped);
    });
}

TEST(process, read_timeout_names_the_stream) {
    run_real([]() -> corio::task<> {
        corio::process_options options = piped(false, true);
        options.read_timeout = 100ms;
        auto silent = corio::process::spawn({"sleep", "100"}, options);
        std::array<char, 16> buffer;
        co_await corio_test::expect_throws<corio::timeout_error>(silent.read_some(buffer), "read from stdout of [sleep 100]");
        const corio::exit_status status = co_await silent.stop(1s);
        EXPECT_EQ(status.signal(), SIGTERM);
    });
}

/// This process's fds that an exec'd child would inherit (no FD_CLOEXEC): the test runner's.
std::set<int> inheritable_fds() {
    std::set<int> fds;
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return fds;
    while (const dirent* entry = ::readdir(dir)) {
        const int fd = std::atoi(entry->d_name);
        if (entry->d_name[0] != '.' && fd != ::dirfd(dir) && (::fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0) fds.insert(fd);
    }
    ::closedir(dir);
    return fds;
}

TEST(process, the_child_inherits_only_its_stdio) {
    run_real([]() -> corio::task<> {
        // Another child with every pipe and a pidfd open: none of its fds may reach the next one.
        auto other = corio::process::spawn({"sleep", "100"}, piped(true, true, true));
        auto ls = corio::process::spawn({"ls", "-l", "/proc/self/fd"}, piped(true, true, true));
        const std::string listing = co_await ls.read_all();
        co_await ls.wait();
        const std::set<int> allowed = inheritable_fds();
        std::istringstream lines(listing);
        for (std::string line; std::getline(lines, line);) {
            const std::size_t arrow = line.find(" -> ");
            if (arrow == std::string::npos) continue;  // "total 0"
            const int fd = std::atoi(line.c_str() + line.rfind(' ', arrow - 1) + 1);
            const std::string target = line.substr(arrow + 4);
            if (fd <= 2 || target.starts_with("/proc/")) continue;  // its stdio, and ls's own directory
            EXPECT_TRUE(allowed.contains(fd)) << "the child inherited fd " << fd << " -> " << target << "\n" << listing;
        }
        co_await other.stop(1s);
    });
}

TEST(process, the_longest_read_and_write_limits_mean_no_limit) {
    run_real([]() -> corio::task<> {
        // now + nanoseconds::max() overflows (UB): it must mean no deadline, not a wrapped one.
        corio::process_options options = piped(true, true);
        options.read_timeout = std::chrono::nanoseconds::max();
        options.write_timeout = std::chrono::nanoseconds::max();
        auto late = corio::process::spawn({"sh", "-c", "sleep 0.2; echo late; exec cat >/dev/null"}, options);
        const std::string big(1 << 20, 'x');  // more than the socket holds: the write waits
        const auto feed = [&]() -> corio::task<> {
            co_await late.write(big);
            late.close_stdin();
        };
        co_await corio::sleep(1ms);  // the test fixture's own timers are set by now
        const std::size_t timers = corio::current_loop("test").pending_timers();
        auto feeding = corio::spawn(feed());
        auto reading = corio::spawn(late.read_all());
        co_await corio::sleep(50ms);
        EXPECT_FALSE(feeding.done());
        EXPECT_FALSE(reading.done());
        EXPECT_EQ(corio::current_loop("test").pending_timers(), timers);  // both wait with no deadline
        co_await feeding;
        const std::string out = co_await reading;
        EXPECT_EQ(out, "late\n");
        const corio::exit_status status = co_await late.wait();
        EXPECT_TRUE(status.success());
    });
}

TEST(process, write_timeout_bounds_a_write_the_child_does_not_read) {
    run_real([]() -> corio::task<> {
        corio::process_options options = piped(true, false);
        options.write_timeout = 100ms;
        auto deaf = corio::process::spawn({"sleep", "100"}, options);
        const std::string big(4 << 20, 'x');  // more than the socket holds
        co_await corio_test::expect_throws<corio::timeout_error>(deaf.write(big), "write to stdin of [sleep 100]");
        const corio::exit_status status = co_await deaf.stop(1s);
        EXPECT_EQ(status.signal(), SIGTERM);
    });
}

TEST(process, destroying_a_running_child_kills_and_reaps_it) {
    run_real([]() -> corio::task<> {
        const std::size_t fds = corio_test::open_fd_count();
        pid_t pid = -1;
        {
            auto sleeper = corio::process::spawn({"sleep", "100"}, piped(true, true, true));
            pid = sleeper.pid();
            auto moved = std::move(sleeper);  // the child goes with the move
            EXPECT_EQ(sleeper.pid(), -1);
            EXPECT_EQ(moved.pid(), pid);
        }
        EXPECT_EQ(corio_test::open_fd_count(), fds);  // pipes and pidfd closed at once
        const bool reaped = co_await reaped_soon(pid);
        EXPECT_TRUE(reaped) << "pid " << pid << " still exists";
    });
}

TEST(run_process, captures_output_with_the_default_options) {
    run_real([]() -> corio::task<> {
        corio::run_process_options options;
        options.capture_output = true;
        const corio::completed_process done = co_await corio::run_process({"echo", "hello", "world"}, options);
        EXPECT_EQ(done.out, "hello world\n");
        EXPECT_EQ(done.err, "");
        EXPECT_EQ(done.exit_code, 0);
        EXPECT_TRUE(done.status.success());
        EXPECT_EQ(done.argv, (std::vector<std::string>{"echo", "hello", "world"}));
        const corio::completed_process plain = co_await corio::run_process({"true"});
        EXPECT_EQ(plain.exit_code, 0);
    });
}

TEST(run_process, feeds_input) {
    run_real([]() -> corio::task<> {
        corio::run_process_options options;
        options.capture_output = true;
        options.input.assign(3 << 20, 'x');
        options.input += "end\n";
        const corio::completed_process done = co_await corio::run_process({"cat"}, options);
        EXPECT_EQ(done.out.size(), options.input.size());
        EXPECT_TRUE(done.out == options.input);
        // A child that reads only part of its input is no failure (as in Python).
        options.input.assign(1 << 20, 'y');
        const corio::completed_process head = co_await corio::run_process({"head", "-c", "3"}, options);
        EXPECT_EQ(head.out, "yyy");
    });
}

TEST(run_process, check_throws_process_error_with_the_stderr_tail) {
    run_real([]() -> corio::task<> {
        corio::run_process_options options;
        options.capture_output = true;
        try {
            co_await corio::run_process({"ls", "/no/such/dir"}, options);
            ADD_FAILURE() << "no process_error";
        } catch (const corio::process_error& e) {
            const std::string message = e.what();
            EXPECT_NE(message.find("command [ls /no/such/dir] exited with code 2"), std::string::npos) << message;
            EXPECT_NE(message.find("; stderr: ls: "), std::string::npos) << message;
            EXPECT_EQ(e.status().exit_code(), 2);
            EXPECT_EQ(e.argv(), (std::vector<std::string>{"ls", "/no/such/dir"}));
            EXPECT_NE(e.stderr_tail().find("/no/such/dir"), std::string::npos);
            EXPECT_NE(e.stderr_tail().back(), '\n');  // the message ends with the text, not a line break
        }
        options.check = false;
        const corio::completed_process failed = co_await corio::run_process({"false"}, options);
        EXPECT_EQ(failed.exit_code, 1);
    });
}

TEST(run_process, timeout_terminates_and_reaps_the_child) {
    run_real([]() -> corio::task<> {
        const std::size_t fds = corio_test::open_fd_count();
        corio::run_process_options options;
        options.capture_output = true;
        options.timeout = 200ms;
        options.kill_grace = 1s;
        co_await corio_test::expect_throws<corio::timeout_error>(corio::run_process({"sleep", "100"}, options),
                                                                 "run_process [sleep 100]: timed out after 200ms; "
                                                                 "the child was stopped: killed by signal 15 (SIGTERM)");
        EXPECT_TRUE(child_pids().empty());  // reaped before the error came out: no zombie
        EXPECT_EQ(corio_test::open_fd_count(), fds);
    });
}

TEST(run_process, timeout_in_virtual_time) {
    // While a child runs the loop has external work (its pidfd watched): virtual time keeps to
    // the real clock instead of jumping past the child, so timeouts mean what they say.
    corio_test::run_virtual([]() -> corio::task<> {
        corio::run_process_options options;
        options.timeout = 100ms;
        const auto started = std::chrono::steady_clock::now();
        co_await corio_test::expect_throws<corio::timeout_error>(corio::run_process({"sleep", "100"}, options), "timed out after 100ms");
        const auto took = std::chrono::steady_clock::now() - started;
        EXPECT_GE(took, 100ms);  // not cut at once by a jump
        EXPECT_LT(took, 5s);     // nor waiting for the child
        options.timeout = 1h;
        const corio::completed_process done = co_await corio::run_process({"sleep", "0.05"}, options);
        EXPECT_EQ(done.exit_code, 0);
    });
}

TEST(run_process, a_child_ignoring_sigterm_is_killed_after_the_grace) {
    run_real([]() -> corio::task<> {
        corio::run_process_options options;
        options.timeout = 100ms;
        options.kill_grace = 200ms;
        co_await corio_test::expect_throws<corio::timeout_error>(
            corio::run_process({"sh", "-c", "trap '' TERM; exec sleep 100"}, options), "killed by signal 9 (SIGKILL)");
        EXPECT_TRUE(child_pids().empty());
    });
}

TEST(run_process, cancellation_terminates_and_reaps_the_child) {
    run_real([]() -> corio::task<> {
        const std::size_t fds = corio_test::open_fd_count();
        corio::run_process_options options;
        options.capture_output = true;
        auto running = corio::spawn(corio::run_process({"sleep", "100"}, options));
        co_await corio::sleep(100ms);
        EXPECT_EQ(child_pids().size(), 1u);
        running.cancel();
        bool cancelled = false;
        try {
            co_await running;
        } catch (const corio::cancelled_error&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_TRUE(child_pids().empty());
        EXPECT_EQ(corio_test::open_fd_count(), fds);
    });
}

TEST(run_process, output_beyond_the_limit_is_a_typed_error) {
    run_real([]() -> corio::task<> {
        const std::size_t fds = corio_test::open_fd_count();
        corio::run_process_options options;
        options.capture_output = true;
        options.max_output = 1000;
        co_await corio_test::expect_throws<corio::output_limit_error>(corio::run_process({"head", "-c", "100000", "/dev/zero"}, options),
                                                                      "stdout of [head -c 100000 /dev/zero]");
        EXPECT_TRUE(child_pids().empty());
        EXPECT_EQ(corio_test::open_fd_count(), fds);
        const corio::completed_process next = co_await corio::run_process({"echo", "still serving"}, options);
        EXPECT_EQ(next.out, "still serving\n");
    });
}

/// From now on the system call `number` fails with `error` in this process (and its children).
bool forbid_syscall(long number, int error) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(number), 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<std::uint32_t>(error)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    const sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

/// From now on pidfd_open fails with ENOSYS in this process (and its children), as on Linux < 5.3.
bool forbid_pidfd_open() { return forbid_syscall(SYS_pidfd_open, ENOSYS); }

// A child the caller may not signal (one that became another user): kill() fails with EPERM.
// In a death-test child, so that the filter does not outlive the test.
TEST(process, a_child_that_cannot_be_stopped_does_not_hide_the_timeout) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            if (!forbid_syscall(SYS_kill, EPERM)) std::_Exit(2);
            bool told = false;
            corio::run([&told]() -> corio::task<> {
                corio::run_process_options options;
                options.timeout = 50ms;
                options.kill_grace = 50ms;
                try {
                    co_await corio::run_process({"sleep", "0.3"}, options);
                } catch (const corio::timeout_error& e) {
                    const std::string what = e.what();
                    told = what.find("timed out after 50ms; stopping the child failed: kill") != std::string::npos &&
                           what.find("Operation not permitted") != std::string::npos;
                    if (!told) std::fprintf(stderr, "message: %s\n", e.what());
                }
            }());
            std::_Exit(told ? 0 : 1);
        },
        testing::ExitedWithCode(0), "");
}

// ctest runs each test in its own process; run all in one, the tests after this one poll too.
TEST(process, without_pidfd_open_wait_polls) {
    if (!forbid_pidfd_open()) GTEST_SKIP() << "no seccomp filter here: " << std::strerror(errno);
    run_real([]() -> corio::task<> {
        auto sleeper = corio::process::spawn({"sleep", "100"});
        co_await corio_test::expect_throws<corio::timeout_error>(corio::wait_for(sleeper.wait(), 50ms));
        sleeper.kill();
        const corio::exit_status killed = co_await sleeper.wait();
        EXPECT_EQ(killed.signal(), SIGKILL);
        EXPECT_TRUE(child_pids().empty());
    });
    // The polls count as external work: virtual time keeps to the real clock while the child runs.
    corio_test::run_virtual([]() -> corio::task<> {
        corio::run_process_options options;
        options.timeout = 2s;
        const corio::completed_process done = co_await corio::run_process({"sleep", "0.2"}, options);
        EXPECT_EQ(done.exit_code, 0);
        options.timeout = 100ms;
        const auto started = std::chrono::steady_clock::now();
        co_await corio_test::expect_throws<corio::timeout_error>(corio::run_process({"sleep", "100"}, options), "timed out after 100ms");
        EXPECT_GE(std::chrono::steady_clock::now() - started, 100ms);
        EXPECT_TRUE(child_pids().empty());
    });
}

}  // namespace
