#include "corio/process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "corio/detail/fd_watch.hpp"
#include "corio/detail/thread_pool.hpp"
#include "corio/gather.hpp"
#include "corio/log.hpp"
#include "corio/shield.hpp"
#include "corio/sleep.hpp"
#include "corio/timeout.hpp"
#include "corio/wait_for.hpp"

extern char** environ;

namespace corio {
namespace {

std::string errno_text(int error) { return std::strerror(error); }

/// The command as one would type it (words with spaces or quotes single-quoted), cut at 200 bytes.
std::string command_line(const std::vector<std::string>& argv) {
    std::string line;
    for (const std::string& word : argv) {
        if (!line.empty()) line += ' ';
        if (!word.empty() && word.find_first_of(" \t\n'\"\\$") == std::string::npos) {
            line += word;
            continue;
        }
        line += '\'';
        for (const char c : word) line += c == '\'' ? std::string("'\\''") : std::string(1, c);
        line += '\'';
    }
    constexpr std::size_t shown = 200;
    if (line.size() > shown) line.resize(shown), line += "...";
    return line;
}

/// The last `count` bytes of `text` without its trailing newlines, "..." in front when cut.
std::string tail(std::string_view text, std::size_t count) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    if (text.size() <= count) return std::string(text);
    return "..." + std::string(text.substr(text.size() - count));
}

/// A pipe or socket end the parent keeps: non-blocking (the child's end stays blocking).
std::unique_ptr<detail::fd_watch> watch_parent_end(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return std::make_unique<detail::fd_watch>(fd);
}

/// posix_spawn_file_actions_t, destroyed on every path; each step that cannot be recorded
/// (ENOMEM) throws spawn_error naming the command.
class file_actions {
public:
    explicit file_actions(const std::string& command) : command_(command) {
        check(::posix_spawn_file_actions_init(&actions_), "preparing its file actions");
    }
    ~file_actions() { ::posix_spawn_file_actions_destroy(&actions_); }
    file_actions(const file_actions&) = delete;
    posix_spawn_file_actions_t* get() noexcept { return &actions_; }

    void dup2(int fd, int target) { check(::posix_spawn_file_actions_adddup2(&actions_, fd, target), "redirecting its stdio"); }
    void open_null(int target) {
        check(::posix_spawn_file_actions_addopen(&actions_, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0),
              "redirecting its stdio to /dev/null");
    }
    void chdir(const std::string& directory) {
        check(::posix_spawn_file_actions_addchdir_np(&actions_, directory.c_str()), "setting its working directory");
    }

private:
    void check(int failed, const char* step) const {
        if (failed != 0) throw spawn_error("spawn " + command_ + ": " + step + ": " + errno_text(failed), failed);
    }

    const std::string& command_;  // the caller's, which outlives this
    posix_spawn_file_actions_t actions_;
};

/// Close-on-exec fds made for a spawn; the child's ends close once it started, the parent's
/// move into watches (both close on every failure path).
class fd_pair {
public:
    fd_pair() = default;
    fd_pair(const fd_pair&) = delete;
    ~fd_pair() {
        for (const int fd : fds_)
            if (fd >= 0) ::close(fd);
    }
    /// [0] the parent's end, [1] the child's: a pipe's read end is the parent's (stdout, stderr);
    /// stdin is a socket pair (writes never raise SIGPIPE).
    void open(bool socket, const std::string& command) {
        const int made = socket ? ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_) : ::pipe2(fds_, O_CLOEXEC);
        if (made == 0) return;
        const int code = errno;  // before the message's allocations may change it
        throw spawn_error("spawn " + command + ": cannot make a pipe: " + errno_text(code), code);
    }
    int parent() const noexcept { return fds_[0]; }
    int child() const noexcept { return fds_[1]; }
    int release_parent() noexcept { return std::exchange(fds_[0], -1); }

private:
    int fds_[2] = {-1, -1};
};

/// The parent's environment with `options.env` set over it (or alone, with clear_env).
std::vector<std::string> child_environment(const process_options& options) {
    std::vector<std::string> entries;
    if (!options.clear_env)
        for (char** e = environ; *e != nullptr; ++e) {
            const std::string_view entry(*e);
            const std::string name(entry.substr(0, entry.find('=')));
            if (!options.env.contains(name)) entries.emplace_back(entry);
        }
    for (const auto& [name, value] : options.env) entries.push_back(name + "=" + value);
    return entries;
}

/// A null-terminated array of pointers into `strings`, as exec wants.
std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    for (std::string& s : strings) pointers.push_back(s.data());
    pointers.push_back(nullptr);
    return pointers;
}

/// A pidfd for `pid`, or -1 when the kernel has no pidfd_open (ENOSYS: wait() polls instead).
int open_pidfd(pid_t pid, const std::string& command) {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd >= 0) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
    }
    const int code = errno;
    if (code == ENOSYS) return -1;
    throw spawn_error("spawn " + command + ": pidfd_open: " + errno_text(code), code);
}

/// sleep(pause), counted as the loop's external work: as while a pidfd is watched, virtual time
/// keeps to the real clock instead of jumping past a child that runs in real time.
task<> pause_for_child(std::chrono::nanoseconds pause) {
    const detail::external_work counted(current_loop("process::wait"));
    co_await sleep(pause);
}

/// Reaps an abandoned (SIGKILLed) child on a worker thread.
class reap_job final : public detail::pool_job {
public:
    explicit reap_job(pid_t pid) noexcept : pid_(pid) {}
    void run() noexcept override {
        while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
    }

private:
    pid_t pid_;
};

}  // namespace

std::string exit_status::describe() const {
    if (exited()) return "exited with code " + std::to_string(code_);
    const char* abbreviation = ::sigabbrev_np(signal_);
    return "killed by signal " + std::to_string(signal_) + (abbreviation ? std::string(" (SIG") + abbreviation + ")" : "");
}

process_error::process_error(std::vector<std::string> argv, exit_status status, std::string stderr_tail)
    : error("command [" + command_line(argv) + "] " + status.describe() +
            (stderr_tail.empty() ? std::string("; stderr: (nothing captured)") : "; stderr: " + stderr_tail)),
      argv_(std::move(argv)), status_(status), stderr_tail_(std::move(stderr_tail)) {}

process process::spawn(command_args argv, process_options options) {
    return process(std::move(argv.words), options);
}

process process::spawn_shell(std::string command, process_options options) {
    return process({"/bin/sh", "-c", std::move(command)}, options);
}

process::process(std::vector<std::string> argv, const process_options& options)
    : argv_(std::move(argv)), read_timeout_(options.read_timeout), write_timeout_(options.write_timeout) {
    const std::string command = "[" + command_line(argv_) + "]";
    if (argv_.empty()) throw spawn_error("spawn: the command is empty", EINVAL);
    static_cast<void>(current_loop("process::spawn"));  // throws outside a loop, before a child exists
    file_actions actions(command);
    fd_pair pipes[3];
    const stdio modes[3] = {options.in, options.out, options.err};
    for (int target = 0; target < 3; ++target) {
        if (modes[target] == stdio::pipe) {
            pipes[target].open(target == 0, command);
            actions.dup2(pipes[target].child(), target);
        } else if (modes[target] == stdio::null) {
            actions.open_null(target);
        }
    }
    if (!options.cwd.empty()) actions.chdir(options.cwd);
    std::vector<std::string> environment = child_environment(options);
    const std::vector<char*> args = c_strings(argv_);
    const std::vector<char*> env = c_strings(environment);
    posix_spawnattr_t attributes;
    ::posix_spawnattr_init(&attributes);
    sigset_t none, defaults;
    ::sigemptyset(&none);
    ::sigemptyset(&defaults);
    ::sigaddset(&defaults, SIGPIPE);
    ::sigaddset(&defaults, SIGXFSZ);
    ::posix_spawnattr_setsigmask(&attributes, &none);
    ::posix_spawnattr_setsigdefault(&attributes, &defaults);
    ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const int failed = ::posix_spawnp(&pid_, argv_[0].c_str(), actions.get(), &attributes, args.data(), env.data());
    ::posix_spawnattr_destroy(&attributes);
    if (failed != 0) {
        pid_ = -1;
        throw spawn_error("spawn " + command + ": " + argv_[0] + ": " + errno_text(failed) +
                              (options.cwd.empty() ? "" : " (cwd " + options.cwd + ")"),
                          failed);
    }
    try {
        pidfd_ = open_pidfd(pid_, command);
        std::unique_ptr<detail::fd_watch>* ends[3] = {&in_, &out_, &err_};
        for (int target = 0; target < 3; ++target)
            if (modes[target] == stdio::pipe) *ends[target] = watch_parent_end(pipes[target].release_parent());
    } catch (...) {
        abandon();
        throw;
    }
}

process::process(process&& other) noexcept
    : argv_(std::move(other.argv_)), pid_(std::exchange(other.pid_, -1)), status_(other.status_),
      pidfd_(std::exchange(other.pidfd_, -1)), in_(std::move(other.in_)), out_(std::move(other.out_)),
      err_(std::move(other.err_)), read_timeout_(other.read_timeout_), write_timeout_(other.write_timeout_) {}

process& process::operator=(process&& other) noexcept {
    if (this == &other) return *this;
    abandon();
    argv_ = std::move(other.argv_);
    pid_ = std::exchange(other.pid_, -1);
    status_ = other.status_;
    pidfd_ = std::exchange(other.pidfd_, -1);
    in_ = std::move(other.in_);
    out_ = std::move(other.out_);
    err_ = std::move(other.err_);
    read_timeout_ = other.read_timeout_;
    write_timeout_ = other.write_timeout_;
    return *this;
}

process::~process() { abandon(); }

void process::abandon() noexcept {
    if (pidfd_ >= 0) ::close(std::exchange(pidfd_, -1));
    in_.reset();
    out_.reset();
    err_.reset();
    if (pid_ < 0 || status_) return;
    ::kill(pid_, SIGKILL);
    try {
        detail::thread_pool::shared().submit(std::make_shared<reap_job>(pid_));
    } catch (const std::exception& e) {
        log_error("process " + name() + ": killed, but left unreaped (a zombie): " + e.what());
    }
    pid_ = -1;
}

std::string process::name() const {
    return "[" + command_line(argv_) + "] (pid " + std::to_string(pid_) + ")";
}

detail::fd_watch& process::pipe(std::unique_ptr<detail::fd_watch>& end, const char* what) const {
    if (!end || !end->is_open()) throw error(std::string(what) + " " + name() + ": not a pipe (stdio::pipe not set, or closed)");
    return *end;
}

std::optional<exit_status> process::try_reap() {
    if (status_) return status_;
    if (pid_ < 0) throw error("wait: the process object holds no child (moved from)");
    siginfo_t info{};
    // P_PID, not P_PIDFD (Linux >= 5.4, one release after pidfd_open): the child is ours and
    // unreaped, so its pid cannot have been reused.
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG) != 0) {
        const int code = errno;
        if (code != EINTR)
            throw error("wait for " + name() + ": " + errno_text(code) + (code == ECHILD ? " (reaped elsewhere: SIGCHLD ignored?)" : ""));
    }
    if (info.si_pid == 0) return std::nullopt;  // still running
    status_ = info.si_code == CLD_EXITED ? exit_status::exited_with(info.si_status) : exit_status::killed_by(info.si_status);
    if (pidfd_ >= 0) ::close(std::exchange(pidfd_, -1));  // it has nothing more to say
    return status_;
}

task<exit_status> process::wait() {
    auto poll_interval = std::chrono::milliseconds(1);  // without a pidfd
    for (;;) {
        if (const std::optional<exit_status> status = try_reap()) co_return *status;
        if (pidfd_ >= 0) {
            co_await wait_for_exit();
            continue;
        }
        co_await pause_for_child(poll_interval);
        poll_interval = std::min(poll_interval * 2, std::chrono::milliseconds(50));
    }
}

task<> process::wait_for_exit() {
    const int duplicate = ::fcntl(pidfd_, F_DUPFD_CLOEXEC, 0);
    if (duplicate < 0) {
        const int code = errno;
        throw error("wait for " + name() + ": duplicating its pidfd: " + errno_text(code));
    }
    detail::fd_watch exited(duplicate);
    exited.not_readable();  // unknown: the pidfd reports the exit as an edge (also one that came before)
    co_await exited.readable();
}

bool process::kill(int signal) {
    if (pid_ < 0 || status_) return false;  // reaped: the pid may be someone else's by now
    if (::kill(pid_, signal) == 0) return true;
    const int code = errno;
    throw error("kill " + name() + " with signal " + std::to_string(signal) + ": " + errno_text(code));
}

task<exit_status> process::stop(std::chrono::nanoseconds grace) {
    if (status_) co_return *status_;
    terminate();
    bool ended = false;
    try {
        co_await wait_for(wait(), grace);
        ended = true;
    } catch (const timeout_error&) {
    }
    if (!ended) kill(SIGKILL);
    co_return co_await wait();
}

task<> process::write(std::string_view data) {
    detail::fd_watch& watch = pipe(in_, "write to stdin of");
    while (!data.empty()) {
        const ssize_t n = ::send(watch.fd(), data.data(), data.size(), MSG_NOSIGNAL);
        if (n >= 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        const int code = errno;
        if (code == EINTR) continue;
        if (code == EPIPE || code == ECONNRESET)
            throw broken_pipe_error("write to stdin of " + name() + ": the child closed its input");
        if (code != EAGAIN && code != EWOULDBLOCK) throw error("write to stdin of " + name() + ": " + errno_text(code));
        watch.not_writable();
        const bool ready = co_await watch.writable(deadline_after(current_loop("process::write").now(), write_timeout_));
        if (!ready)
            throw timeout_error("write to stdin of " + name() + " made no progress for " + format_duration(write_timeout_));
    }
}

void process::close_stdin() noexcept {
    if (in_) in_->close();  // the watch stays: a write waiting on it wakes and fails (EBADF)
}

task<std::size_t> process::read_some(stream which, std::span<char> buffer) {
    const char* what = which == stream::out ? "read from stdout of" : "read from stderr of";
    detail::fd_watch& watch = pipe(which == stream::out ? out_ : err_, what);
    for (;;) {
        // The last read ran dry and no readiness edge came since: wait instead of a doomed read.
        if (watch.must_wait_to_read()) {
            const bool ready = co_await watch.readable(deadline_after(current_loop("process::read_some").now(), read_timeout_));
            if (!ready) throw timeout_error(std::string(what) + " " + name() + " timed out after " + format_duration(read_timeout_));
        }
        const ssize_t n = ::read(watch.fd(), buffer.data(), buffer.size());
        if (n > 0 && static_cast<std::size_t>(n) < buffer.size()) watch.not_readable();  // drained
        if (n >= 0) co_return static_cast<std::size_t>(n);
        const int code = errno;
        if (code == EINTR) continue;
        if (code != EAGAIN && code != EWOULDBLOCK) throw error(std::string(what) + " " + name() + ": " + errno_text(code));
        watch.not_readable();
    }
}

task<std::string> process::read_all(stream which, std::size_t limit) {
    std::string all;
    std::vector<char> buffer(64 * 1024);
    for (;;) {
        const std::size_t n = co_await read_some(which, buffer);
        if (n == 0) co_return all;
        if (all.size() + n > limit)
            throw output_limit_error(std::string(which == stream::out ? "stdout" : "stderr") + " of " + name() +
                                     " passed the limit of " + std::to_string(limit) + " bytes");
        all.append(buffer.data(), n);
    }
}

namespace {

/// Feeds the input, captures the piped outputs and waits for the child to end.
task<completed_process> communicate(process& child, const run_process_options& options) {
    const auto feed = [&]() -> task<> {
        try {
            co_await child.write(options.input);
        } catch (const broken_pipe_error&) {  // the child did not want it all (Python ignores this too)
        }
        child.close_stdin();
    };
    const auto no_input = []() -> task<> { co_return; };
    const auto nothing = []() -> task<std::string> { co_return std::string(); };
    task<> feeding = options.child.in == stdio::pipe ? feed() : no_input();
    task<std::string> out = options.child.out == stdio::pipe ? child.read_all(stream::out, options.max_output) : nothing();
    task<std::string> err = options.child.err == stdio::pipe ? child.read_all(stream::err, options.max_output) : nothing();
    auto [fed, out_text, err_text] = co_await gather(std::move(feeding), std::move(out), std::move(err));
    static_cast<void>(fed);
    completed_process done;
    done.argv = child.argv();
    done.status = co_await child.wait();
    done.exit_code = done.status.exit_code();
    done.out = std::move(out_text);
    done.err = std::move(err_text);
    co_return done;
}

}  // namespace

task<completed_process> run_process(command_args argv) {
    return run_process(std::move(argv), run_process_options());
}

task<completed_process> run_process(command_args argv, run_process_options options) {
    if (!options.input.empty()) options.child.in = stdio::pipe;
    if (options.capture_output) options.child.out = options.child.err = stdio::pipe;
    // The run's timeout is its one limit: the reads and writes have none of their own.
    options.child.read_timeout = options.child.write_timeout = std::chrono::nanoseconds::max();
    process child = process::spawn(std::move(argv), options.child);
    std::optional<completed_process> done;
    std::exception_ptr failure;
    try {
        const auto run = [&]() -> task<completed_process> { co_return co_await communicate(child, options); };
        completed_process finished = co_await fail_after(options.timeout, run);
        done.emplace(std::move(finished));
    } catch (...) {  // rethrown below, after the child is gone (no co_await in a handler)
        failure = std::current_exception();
    }
    if (failure) {
        std::string stopped;
        try {
            const exit_status ended = co_await uncancellable(child.stop(options.kill_grace));
            stopped = "the child was stopped: " + ended.describe();
        } catch (const std::exception& e) {  // the first failure wins; the destructor still kills the child
            stopped = std::string("stopping the child failed: ") + e.what();
        }
        try {
            std::rethrow_exception(failure);
        } catch (const timeout_error& e) {
            throw timeout_error("run_process [" + command_line(child.argv()) + "]: " + e.what() + "; " + stopped);
        }
    }
    if (options.check && !done->status.success())
        throw process_error(done->argv, done->status, tail(done->err, 1024));
    co_return std::move(*done);
}

}  // namespace corio
