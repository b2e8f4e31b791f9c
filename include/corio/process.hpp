// corio/process.hpp — child processes: process::spawn (asyncio's create_subprocess_exec) and
// run_process (Trio's run_process, Python's subprocess.run).
//
// snippet: examples/subprocess.cpp#run_process
//   corio::run_process_options options;
//   options.capture_output = true;
//   options.timeout = 10s;  // then SIGTERM, and SIGKILL after options.kill_grace
//   corio::completed_process done = co_await corio::run_process({"uname", "-s"}, options);
//   std::printf("uname says %s", done.out.c_str());  // check (the default) threw if it failed
// snippet: examples/subprocess.cpp#spawn
//   corio::process_options options;
//   options.in = corio::stdio::pipe;
//   options.out = corio::stdio::pipe;
//   corio::process cat = corio::process::spawn({"cat"}, options);
//   co_await cat.write("hello through cat\n");
//   cat.close_stdin();  // cat sees end of input and exits
//   std::string echoed = co_await cat.read_all();  // stdout, up to its end
//   corio::exit_status status = co_await cat.wait();
//
// process::spawn(argv, options) starts argv[0] (searched in this process's PATH when it has no
// '/', as posix_spawnp does: a PATH in options.env does not change the search) with
// posix_spawn, with no shell (process::spawn_shell(command) runs `/bin/sh -c command`, by name).
// Each of the child's stdin, stdout and stderr is inherited (the default), /dev/null or a pipe
// (process_options::in/out/err). Piped stdin is a Unix socket pair, as asyncio does, so writing
// to a child that stopped reading fails with broken_pipe_error instead of raising SIGPIPE. The
// parent's ends are close-on-exec: no other child inherits them. The child starts with an empty
// signal mask and SIGPIPE/SIGXFSZ at their defaults. spawn itself runs on the loop (posix_spawn
// returns once the child has exec'd: well under a millisecond).
// Exit is watched with a pidfd (pidfd_open, Linux >= 5.3) on the loop's reactor, on either
// backend; once it is readable, waitid(WNOHANG) reaps the child. If pidfd_open is missing
// (ENOSYS), wait() polls waitid(WNOHANG) instead, every 1 ms growing to 50 ms. Exit statuses:
// exit_status.
//
// Streams: write(data) writes all of it to stdin, bounded by options.write_timeout (no progress
// for that long); close_stdin() sends end of input. read_some(buffer) / read_all() read stdout;
// read_some(corio::stream::err, buffer) / read_all(corio::stream::err) read stderr. Each read
// waits at most options.read_timeout for a byte; read_all stops at end of stream and throws
// output_limit_error past `limit` bytes (what it read is dropped: the stream is then mid-way).
// A child writing much to two pipes needs both read concurrently (run_process does).
// process_options also sets the child's environment (env over the parent's, or alone with
// clear_env) and working directory (cwd). stop(grace) ends a child politely (SIGTERM, then
// SIGKILL after `grace`) and reaps it. An argv is a command_args: a std::vector<std::string>, or
// the words in braces (`{"ls", "-l", path}`).
//
// run_process(argv, options) spawns, feeds options.input, captures stdout and stderr (each at
// most options.max_output bytes) when options.capture_output, waits, and returns a
// completed_process. Everything is bounded by options.timeout (default 5 min). On timeout, on
// cancellation, or when a read fails (output_limit_error), the child gets SIGTERM, then SIGKILL
// after options.kill_grace (5 s), is reaped, and the error propagates (a timeout_error naming the
// command and how the child ended). With options.check (the default, as in Trio) a child that did
// not exit with 0 throws process_error naming the command, its status and the tail of its stderr.
// Give run_process_options a name before the co_await: it holds strings (README: g++ 12 pitfall).
//
// Cancel safety: wait — the child runs on, nothing is lost: wait again. read_some — nothing is
// consumed (bytes are only read after the wait). write — a prefix of the data may have been
// written (stdin is then in an unknown state: close it). stop — the child may be left running;
// the process object's destructor then kills and reaps it. run_process — the child is terminated
// and reaped (uncancellable, up to kill_grace plus the time a SIGKILLed child takes to go) before
// cancelled_error propagates; no fd stays open.
// Lifetime: destroying a process whose child was not reaped (not waited for) sends it SIGKILL and
// reaps it on a worker thread (detail/thread_pool.hpp), so the loop never blocks and no zombie is
// left; its pipes close at once. A process must not outlive its loop. Move-only.
// Throws: spawn_error (cannot start: argv[0] and the errno text), broken_pipe_error, timeout_error,
// output_limit_error, process_error (check), corio::error for other pipe or wait failures
// (naming the command, its pid and the errno text), cancelled_error.
// Thread-safety: a process belongs to the loop that spawned it. Any number of tasks may wait()
// at once; one task at a time may read each stream, and one may write.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <concepts>
#include <csignal>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corio/error.hpp"
#include "corio/task.hpp"

namespace corio::detail {
class fd_watch;
}  // namespace corio::detail

namespace corio {

/// What a child's stdin, stdout or stderr is connected to.
enum class stdio { inherit, pipe, null };

/// Which output of the child to read.
enum class stream { out, err };

/// How a child ended: it exited with a code, or a signal killed it. Default: exited with code 0.
class exit_status {
public:
    exit_status() noexcept = default;
    static exit_status exited_with(int code) noexcept { return exit_status(code, 0); }
    static exit_status killed_by(int signal) noexcept { return exit_status(-signal, signal); }

    /// Exited with code 0.
    bool success() const noexcept { return code_ == 0 && signal_ == 0; }
    /// Ended by exiting (not by a signal).
    bool exited() const noexcept { return signal_ == 0; }
    /// The exit code; -N when signal N killed it (Python's returncode).
    int exit_code() const noexcept { return code_; }
    /// The signal that killed it; 0 when it exited.
    int signal() const noexcept { return signal_; }
    /// "exited with code 3", "killed by signal 9 (SIGKILL)".
    std::string describe() const;
    friend bool operator==(const exit_status&, const exit_status&) = default;

private:
    exit_status(int code, int signal) noexcept : code_(code), signal_(signal) {}
    int code_ = 0;    // invariant: -signal_ when signal_ != 0
    int signal_ = 0;
};

/// The child could not be started (no such program, not executable, bad cwd, no fds left).
class spawn_error : public error {
public:
    spawn_error(const std::string& message, int code) : error(message), code_(code) {}
    int code() const noexcept { return code_; }  ///< the errno value

private:
    int code_;
};

/// A write to the child's stdin found it closed (the child exited or closed its input).
class broken_pipe_error : public error {
public:
    using error::error;
};

/// A read_all (or run_process's capture) passed its limit of bytes.
class output_limit_error : public error {
public:
    using error::error;
};

/// A child run with run_process_options::check did not exit with code 0. The message names the
/// command, how it ended and the tail of its stderr.
class process_error : public error {
public:
    process_error(std::vector<std::string> argv, exit_status status, std::string stderr_tail);
    const std::vector<std::string>& argv() const noexcept { return argv_; }
    const exit_status& status() const noexcept { return status_; }
    /// The last KiB of what the child wrote to stderr (after "..." when cut), if it was captured.
    const std::string& stderr_tail() const noexcept { return stderr_tail_; }

private:
    std::vector<std::string> argv_;
    exit_status status_;
    std::string stderr_tail_;
};

/// A command's words, argv[0] first: a std::vector<std::string>, or the words themselves,
/// `{"ls", "-l", path}`. Not a std::initializer_list, whose array g++ 12 cannot keep across a
/// co_await ("array used as initializer"): `co_await run_process({"ls", "-l"}, options)` compiles.
class command_args {
public:
    command_args() noexcept = default;
    command_args(std::vector<std::string> words) noexcept : words(std::move(words)) {}
    template <class... Words>
        requires(sizeof...(Words) >= 1 && (std::convertible_to<const Words&, std::string_view> && ...))
    command_args(const Words&... each) : words{std::string(std::string_view(each))...} {}

    std::vector<std::string> words;
};

struct process_options {
    stdio in = stdio::inherit;
    stdio out = stdio::inherit;
    stdio err = stdio::inherit;
    /// Set in the child, over the parent's environment (or instead of it with clear_env).
    std::map<std::string, std::string> env;
    bool clear_env = false;
    /// The child's working directory; empty: the parent's.
    std::string cwd;
    std::chrono::nanoseconds read_timeout = std::chrono::seconds(60);   // idle: no byte for this long
    std::chrono::nanoseconds write_timeout = std::chrono::seconds(60);  // no write progress for this long
};

class process {
public:
    /// Starts argv (argv[0] searched in PATH if it has no '/'); throws spawn_error.
    static process spawn(command_args argv, process_options options = {});
    /// Starts `/bin/sh -c command`: the one way to get a shell.
    static process spawn_shell(std::string command, process_options options = {});

    process(process&& other) noexcept;
    process& operator=(process&& other) noexcept;
    /// A child still running gets SIGKILL and is reaped on a worker thread (see above).
    ~process();

    pid_t pid() const noexcept { return pid_; }
    const std::vector<std::string>& argv() const noexcept { return argv_; }

    /// Writes all of `data` to the child's stdin (a pipe).
    task<> write(std::string_view data);
    /// Closes the child's stdin: it reads end of input. Idempotent.
    void close_stdin() noexcept;
    /// Reads up to buffer.size() bytes of stdout (or of `which`); 0 at its end.
    task<std::size_t> read_some(std::span<char> buffer) { return read_some(stream::out, buffer); }
    task<std::size_t> read_some(stream which, std::span<char> buffer);
    /// Reads stdout (or `which`) to its end; throws output_limit_error past `limit` bytes.
    task<std::string> read_all(std::size_t limit = default_output_limit) { return read_all(stream::out, limit); }
    task<std::string> read_all(stream which, std::size_t limit = default_output_limit);
    /// Waits for the child to end and reaps it; again afterwards, returns the same status.
    task<exit_status> wait();
    /// Sends `signal` (default SIGKILL); false (nothing sent) once the child was reaped.
    bool kill(int signal = SIGKILL);
    /// kill(SIGTERM).
    bool terminate() { return kill(SIGTERM); }
    /// Ends the child: SIGTERM, up to `grace` for it to exit, then SIGKILL; reaps it. Returns at
    /// once if it was reaped already.
    task<exit_status> stop(std::chrono::nanoseconds grace);

    static constexpr std::size_t default_output_limit = std::size_t{64} << 20;  // 64 MiB

private:
    process(std::vector<std::string> argv, const process_options& options);
    /// Reaps the child if it ended (waitid WNOHANG); sets status_ and closes the pidfd.
    std::optional<exit_status> try_reap();
    /// Waits until the pidfd is readable (the child ended), through a duplicate of it: each
    /// waiter has its own registration, so several tasks may wait at once.
    task<> wait_for_exit();
    /// Kills an unreaped child and hands its reaping to a worker thread.
    void abandon() noexcept;
    detail::fd_watch& pipe(std::unique_ptr<detail::fd_watch>& end, const char* what) const;
    std::string name() const;  // "argv[0] (pid N)", for messages

    std::vector<std::string> argv_;
    pid_t pid_ = -1;                          // -1: moved from
    std::optional<exit_status> status_;       // set once reaped; then pid_ may belong to another process
    int pidfd_ = -1;                          // readable once the child ended; -1 once reaped, when
                                              // moved from, or without pidfd_open (wait() polls)
    std::unique_ptr<detail::fd_watch> in_;    // our end of stdin (a socket), if piped and not closed
    std::unique_ptr<detail::fd_watch> out_;   // our end of stdout, if piped
    std::unique_ptr<detail::fd_watch> err_;
    std::chrono::nanoseconds read_timeout_;
    std::chrono::nanoseconds write_timeout_;
};

struct run_process_options {
    /// Written to the child's stdin (then closed). Empty: stdin as in `child` (inherited by default).
    std::string input;
    /// Capture stdout and stderr into completed_process::out / err (else as in `child`).
    bool capture_output = false;
    /// Throw process_error unless the child exits with code 0.
    bool check = true;
    /// The whole run; then the child is terminated and timeout_error thrown.
    std::chrono::nanoseconds timeout = std::chrono::minutes(5);
    /// After SIGTERM (timeout, cancellation, a failed read), how long before SIGKILL.
    std::chrono::nanoseconds kill_grace = std::chrono::seconds(5);
    /// Bytes captured at most, per stream; past it: output_limit_error.
    std::size_t max_output = process::default_output_limit;
    /// env, cwd, and the stdio that input/capture_output do not set (a stdio::pipe is fed/captured).
    process_options child;
};

struct completed_process {
    std::vector<std::string> argv;
    exit_status status;
    int exit_code = 0;  // status.exit_code(): -N when signal N killed it
    std::string out;    // captured stdout (empty unless captured)
    std::string err;    // captured stderr
};

/// Runs argv to its end (see above). Throws spawn_error, process_error (check), timeout_error,
/// output_limit_error, cancelled_error.
task<completed_process> run_process(command_args argv, run_process_options options);
/// With the default options (made here, not as a `= {}` temporary across the caller's co_await).
task<completed_process> run_process(command_args argv);

}  // namespace corio
