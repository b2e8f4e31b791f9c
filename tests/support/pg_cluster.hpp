// pg_cluster: a throwaway PostgreSQL cluster for the tests (a real server, never a mock). Linux
// only; plain blocking POSIX code, no corio dependency.
//
//   if (!corio_test_support::pg_cluster::available()) GTEST_SKIP() << "PostgreSQL is not installed";
//   auto pg = corio_test_support::pg_cluster::start();  // throws std::runtime_error (with the tool's output)
//   pg->psql("create table t (id int primary key)");    // setup and checks, over the Unix socket
//   ... connect with pg->tcp_conninfo(), pg->socket_conninfo() or pg->url() ...
//
// start() runs initdb in a fresh /tmp/corio-pg-XXXXXX (superuser "corio", trust over the Unix
// socket, scram-sha-256 with password() over TCP, UTF8, locale C, --no-sync), then pg_ctl start on a
// free 127.0.0.1 port with a private socket directory, durability off (fsync, full_page_writes,
// synchronous_commit) and max_connections=200; it takes about a second. The binaries are the highest
// /usr/lib/postgresql/<version>/bin (Debian), else initdb's directory in $PATH; $CORIO_PG_BINDIR
// overrides. Run as root, every tool runs as the `postgres` system user (else `nobody`), which owns
// the directory: the server refuses to run as root.
//
// Guarantees:
// - The server is stopped and the directory removed on every path. The destructor stops the server
//   (immediate) and removes the directory. For every other end of the test process (a crash, an
//   abort, an uncaught exception, Ctrl-C, SIGKILL, a ctest timeout) start() leaves a reaper: a
//   process that waits on a socket only the test process holds (close-on-exec, so no other child
//   inherits it). When the test process is gone the read ends, and the reaper stops the server
//   (pg_ctl stop -m immediate) and removes the directory. The reaper is double-forked (not a
//   descendant of the test process, so ctest's kill of the process tree spares it), in its own
//   session with SIGINT, SIGHUP, SIGQUIT and SIGTERM ignored (Ctrl-C does not reach it), its stdio on
//   /dev/null (ctest never waits on it for output); the destructor tells it that all is clean and
//   waits for it to exit.
// - SQL never meets a shell: programs get argv vectors, no command line (only pg_ctl passes the
//   server options, our port and paths, through its shell); the reaper is a fixed /bin/sh script
//   that gets its two paths as arguments. The children get every descriptor but their stdio closed,
//   default signals, the C locale and no PG* variable from the environment.
// - Not thread-safe: one thread drives a cluster; a forked copy of the process (a death test) never
//   touches the cluster of its parent.
#pragma once

#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "find_program.hpp"
#include "free_port.hpp"

extern char** environ;

namespace corio_test_support {

namespace pg_cluster_detail {

/// The user the PostgreSQL tools run as when we are root (drop == false: as ourselves).
struct identity {
    bool drop = false;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home;
};

/// What a finished program wrote and how it ended.
struct run_result {
    int status = -1;  // as from waitpid
    std::string out;  // stdout (and stderr when merged)
    std::string err;  // stderr when not merged
    bool ok() const noexcept { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
    std::string how() const {
        if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
        if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
        return "unknown status";
    }
};

inline std::string trim(std::string s) {
    const auto space = [](unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && space(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t first = 0;
    while (first < s.size() && space(static_cast<unsigned char>(s[first]))) ++first;
    return s.substr(first);
}

inline std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

inline bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

inline bool has_tools(const std::string& dir) {
    for (const char* tool : {"initdb", "pg_ctl", "postgres", "psql"})
        if (!executable(dir + "/" + tool)) return false;
    return true;
}

/// The environment of the children: ours without PG* variables (PGHOST, PGOPTIONS... would
/// redirect or alter the tools), in the C locale (messages in English), HOME the user's.
inline std::vector<std::string> child_environment(const identity& as) {
    std::vector<std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string entry = *e;
        if (entry.rfind("PG", 0) == 0 || entry.rfind("LC_", 0) == 0 || entry.rfind("LANG=", 0) == 0 ||
            entry.rfind("LANGUAGE=", 0) == 0 || (as.drop && (entry.rfind("HOME=", 0) == 0 || entry.rfind("USER=", 0) == 0 ||
                                                             entry.rfind("LOGNAME=", 0) == 0)))
            continue;
        env.push_back(entry);
    }
    env.emplace_back("LC_ALL=C");
    env.emplace_back("PGCLIENTENCODING=UTF8");
    env.emplace_back("PGCONNECT_TIMEOUT=10");
    if (as.drop) env.push_back("HOME=" + as.home);
    return env;
}

/// One past the highest descriptor a child may have to close when close_range is missing.
inline int descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 65536;
    return static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
}

/// fork + execve of argv[0] with fds[i] as descriptor i (everything else closed), default signals
/// and an empty signal mask, in `cwd`, as `as`. `detach`: in a new session with the terminal's
/// signals ignored, and double-forked (the program is not our descendant; the returned pid is the
/// intermediate child, already exited or about to). Only async-signal-safe calls between fork and
/// exec. Returns the pid, -1 on failure.
inline pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::vector<int>& fds,
                   const identity& as, const std::string& cwd, bool detach) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const int fd_count = static_cast<int>(fds.size());
    const int* fd_list = fds.data();
    const int max_fd = descriptor_limit();
    const char* dir = cwd.c_str();

    const pid_t pid = ::fork();
    if (pid != 0) return pid;  // the parent (or -1)

    // The child.
    const auto fail = [](const char* what) {
        const char prefix[] = "pg_cluster: in the child: ";
        (void)!::write(STDERR_FILENO, prefix, sizeof prefix - 1);
        (void)!::write(STDERR_FILENO, what, std::strlen(what));
        (void)!::write(STDERR_FILENO, "\n", 1);
        ::_exit(127);
    };
    if (detach) {
        if (::setsid() < 0) fail("setsid failed");
        const pid_t grandchild = ::fork();
        if (grandchild < 0) fail("fork failed");
        if (grandchild > 0) ::_exit(0);  // our parent reaps this; the grandchild goes on, an orphan
    }
    // Lift the sources above the targets first, so no dup2 overwrites a source still needed (and
    // dup2 always makes a new, inheritable descriptor).
    int lifted[8];
    if (fd_count > 8) fail("too many descriptors");
    for (int i = 0; i < fd_count; ++i)
        if ((lifted[i] = ::fcntl(fd_list[i], F_DUPFD, 16)) < 0) fail("fcntl(F_DUPFD) failed");
    for (int i = 0; i < fd_count; ++i)
        if (::dup2(lifted[i], i) < 0) fail("dup2 failed");
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, static_cast<unsigned>(fd_count), ~0U, 0U) != 0)
#endif
        for (int fd = fd_count; fd < max_fd; ++fd) ::close(fd);

    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    ::sigemptyset(&action.sa_mask);
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &action, nullptr);
    if (detach) {
        action.sa_handler = SIG_IGN;
        for (int sig : {SIGINT, SIGHUP, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE}) ::sigaction(sig, &action, nullptr);
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);

    if (as.drop) {
        if (::setgroups(1, &as.gid) != 0 || ::setgid(as.gid) != 0 || ::setuid(as.uid) != 0) fail("cannot drop privileges");
    }
    if (::chdir(dir) != 0) fail("chdir failed");
    ::execve(args[0], args.data(), envp.data());
    fail("execve failed");
    return -1;  // not reached
}

inline int open_dev_null() { return ::open("/dev/null", O_RDWR | O_CLOEXEC); }

inline pid_t wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return status;
}

/// Runs argv to completion: stdin /dev/null, stdout (and stderr if `merge`) captured.
inline run_result run(const std::vector<std::string>& argv, const identity& as, const std::string& cwd, bool merge) {
    run_result result;
    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    const int null = open_dev_null();
    if (null < 0 || ::pipe2(out, O_CLOEXEC) != 0 || (!merge && ::pipe2(err, O_CLOEXEC) != 0)) {
        for (int fd : {null, out[0], out[1], err[0], err[1]})
            if (fd >= 0) ::close(fd);
        result.err = std::string("pipe failed: ") + std::strerror(errno);
        return result;
    }
    const pid_t pid = spawn(argv, child_environment(as), {null, out[1], merge ? out[1] : err[1]}, as, cwd, false);
    ::close(null);
    ::close(out[1]);
    if (!merge) ::close(err[1]);
    if (pid < 0) {
        ::close(out[0]);
        if (!merge) ::close(err[0]);
        result.err = std::string("fork failed: ") + std::strerror(errno);
        return result;
    }
    // Read both pipes to their end (poll: a child filling one while we block on the other would hang).
    pollfd polls[2] = {{out[0], POLLIN, 0}, {merge ? -1 : err[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open = merge ? 1 : 2;
    char buffer[8192];
    while (open > 0) {
        if (::poll(polls, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (polls[i].fd < 0 || polls[i].revents == 0) continue;
            const ssize_t n = ::read(polls[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                ::close(polls[i].fd);
                polls[i].fd = -1;
                --open;
            }
        }
    }
    for (const auto& p : polls)
        if (p.fd >= 0) ::close(p.fd);
    result.status = wait_for(pid);
    return result;
}

/// chown -R, without following symbolic links.
inline void chown_tree(const std::filesystem::path& root, const identity& as) {
    const auto own = [&](const std::filesystem::path& p) {
        if (::lchown(p.c_str(), as.uid, as.gid) != 0)
            throw std::runtime_error("pg_cluster: chown " + p.string() + ": " + std::strerror(errno));
    };
    own(root);
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) own(entry.path());
}

/// The reaper's script: $1 the bin directory, $2 the cluster's directory; descriptor 3 the socket.
/// A line "done" means the owner cleaned up; the end of the input without it, that the owner died.
inline constexpr const char* reaper_script =
    "if read -r word <&3 && [ \"$word\" = done ]; then exit 0; fi\n"
    "exec 3<&-\n"
    "if [ -f \"$2/data/postmaster.pid\" ]; then \"$1/pg_ctl\" stop -D \"$2/data\" -m immediate -w -t 30; fi\n"
    "rm -rf -- \"$2\"\n";

}  // namespace pg_cluster_detail

/// A throwaway PostgreSQL cluster: see the top of this file.
class pg_cluster {
public:
    /// The directory of initdb, pg_ctl, postgres and psql; empty when PostgreSQL is not installed.
    static std::string find_bin_dir() {
        using pg_cluster_detail::has_tools;
        if (const char* forced = std::getenv("CORIO_PG_BINDIR"); forced != nullptr && *forced != '\0')
            return has_tools(forced) ? forced : std::string();
        std::string best;
        double best_version = -1;
        glob_t found{};
        if (::glob("/usr/lib/postgresql/*/bin", GLOB_ONLYDIR | GLOB_NOSORT, nullptr, &found) == 0) {
            for (std::size_t i = 0; i < found.gl_pathc; ++i) {
                const std::string dir = found.gl_pathv[i];
                const double version = std::strtod(dir.c_str() + std::strlen("/usr/lib/postgresql/"), nullptr);
                if (version > best_version && has_tools(dir)) {
                    best = dir;
                    best_version = version;
                }
            }
        }
        ::globfree(&found);
        if (!best.empty()) return best;
        const char* path = std::getenv("PATH");
        std::istringstream dirs(path != nullptr ? path : "");
        for (std::string dir; std::getline(dirs, dir, ':');)
            if (!dir.empty() && has_tools(dir)) return dir;
        return {};
    }

    /// Whether a cluster can be started here (PostgreSQL installed; as root, an unprivileged user
    /// to run it). The tests skip when not.
    static bool available() {
        if (find_bin_dir().empty()) return false;
        try {
            (void)server_identity();
            return true;
        } catch (const std::exception&) {
            return false;
        }
    }

    /// Creates, initializes and starts a cluster; throws std::runtime_error with what the tools
    /// said when it cannot.
    static std::unique_ptr<pg_cluster> start() {
        std::unique_ptr<pg_cluster> cluster(new pg_cluster());
        cluster->start_up();  // if it throws, the destructor cleans up what was done
        return cluster;
    }

    pg_cluster(const pg_cluster&) = delete;
    pg_cluster& operator=(const pg_cluster&) = delete;

    ~pg_cluster() {
        if (::getpid() != owner_) return;  // a forked copy (death test): the cluster is the parent's
        bool clean = true;
        if (!dir_.empty()) {
            std::error_code ec;
            const std::string pid_file = data_dir() + "/postmaster.pid";
            if (std::filesystem::exists(pid_file, ec))
                clean = ctl({"stop", "-D", data_dir(), "-m", "immediate", "-w", "-t", "30"}).ok() ||
                        !std::filesystem::exists(pid_file, ec);
            if (clean) {
                std::filesystem::remove_all(dir_, ec);
                clean = !std::filesystem::exists(dir_, ec) && !ec;
            }
        }
        if (reaper_socket_ >= 0) {
            // "done": nothing left for the reaper; else (the server did not stop, the directory
            // stayed) it tries again. Then wait for it to exit: its end of the socket closes.
            if (clean) (void)!::send(reaper_socket_, "done\n", 5, MSG_NOSIGNAL);
            ::shutdown(reaper_socket_, SHUT_WR);
            pollfd p{reaper_socket_, POLLIN, 0};
            char byte;
            for (int waited = 0; waited < 60'000;) {  // the reaper's pg_ctl gives up after 30 s
                const int ready = ::poll(&p, 1, 100);
                if (ready < 0 && errno != EINTR) break;
                if (ready > 0 && ::recv(reaper_socket_, &byte, 1, 0) <= 0) break;  // the end: it exited
                waited += 100;
            }
            ::close(reaper_socket_);
        }
    }

    int port() const noexcept { return port_; }
    const std::string& socket_dir() const noexcept { return socket_dir_; }
    /// The directory holding everything (data, socket, log), removed on every path.
    const std::string& dir() const noexcept { return dir_; }
    std::string data_dir() const { return dir_ + "/data"; }
    const std::string& bin_dir() const noexcept { return bin_dir_; }
    std::string user() const { return "corio"; }
    std::string password() const { return "corio-test-password"; }
    std::string database() const { return "postgres"; }

    /// libpq connection strings: over TCP (password, scram-sha-256) and over the Unix socket (trust).
    std::string tcp_conninfo() const {
        return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + user() + " password=" + password() +
               " dbname=" + database();
    }
    std::string socket_conninfo() const {
        return "host=" + socket_dir_ + " port=" + std::to_string(port_) + " user=" + user() + " dbname=" + database();
    }
    std::string url() const {
        return "postgresql://" + user() + ":" + password() + "@127.0.0.1:" + std::to_string(port_) + "/" + database();
    }

    /// The server's log so far (for failure messages).
    std::string log() const { return pg_cluster_detail::slurp(log_file()); }

    /// Restarts the server (fast shutdown, then start) on the same port; throws on failure.
    void restart() {
        const auto r = ctl({"restart", "-D", data_dir(), "-m", "fast", "-w", "-t", "30", "-l", log_file(), "-o", server_options()});
        if (!r.ok()) throw failure("pg_ctl restart", r, true);
    }

    /// Stops the server at once (immediate shutdown); nothing if it is not running; throws on failure.
    void stop() {
        if (!running()) return;
        const auto r = ctl({"stop", "-D", data_dir(), "-m", "immediate", "-w", "-t", "30"});
        if (!r.ok()) throw failure("pg_ctl stop", r, true);
    }

    bool running() const { return ctl({"status", "-D", data_dir()}).ok(); }

    /// Runs `sql` with psql over the Unix socket (-X -A -t -q, ON_ERROR_STOP): returns what it
    /// printed, trimmed (rows on lines, columns separated by '|'); throws with psql's stderr.
    std::string psql(const std::string& sql) const {
        const auto r = pg_cluster_detail::run({bin_dir_ + "/psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h", socket_dir_,
                                               "-p", std::to_string(port_), "-U", user(), "-d", database(), "-c", sql},
                                              as_, dir_, false);
        if (!r.ok())
            throw std::runtime_error("pg_cluster: psql failed (" + r.how() + ") on: " + sql + "\n" + pg_cluster_detail::trim(r.err));
        return pg_cluster_detail::trim(r.out);
    }

    /// Turns TLS on (a throwaway self-signed certificate for localhost, made with the openssl
    /// command): clients may then connect with sslmode=require. Throws on failure.
    void enable_tls() {
        run_program({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout",
                     data_dir() + "/server.key", "-out", data_dir() + "/server.crt"});
        psql("alter system set ssl = on");
        psql("select pg_reload_conf()");
    }

    /// Runs a program (a path, the name of one of the cluster's tools: "pgbench", or of one on
    /// the PATH) as the
    /// user that runs the server, in the cluster's directory; what it printed on stdout. Throws
    /// with its stderr if it fails.
    std::string run_program(std::vector<std::string> argv) const {
        if (!argv.empty() && argv[0].find('/') == std::string::npos)
            argv[0] = pg_cluster_detail::executable(bin_dir_ + "/" + argv[0]) ? bin_dir_ + "/" + argv[0] : find_program(argv[0]);
        const auto r = pg_cluster_detail::run(argv, as_, dir_, false);
        if (!r.ok()) throw std::runtime_error("pg_cluster: " + argv.at(0) + " failed (" + r.how() + ")\n" + pg_cluster_detail::trim(r.err));
        return r.out;
    }

private:
    pg_cluster() = default;

    std::string log_file() const { return dir_ + "/postgres.log"; }

    std::string server_options() const {
        return "-p " + std::to_string(port_) + " -k " + socket_dir_ +
               " -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
               " -c max_connections=200";
    }

    /// Who runs the tools: ourselves, or (as root) `postgres`, else `nobody`.
    static pg_cluster_detail::identity server_identity() {
        pg_cluster_detail::identity as;
        if (::geteuid() != 0) return as;
        for (const char* name : {"postgres", "nobody"}) {
            passwd entry{};
            passwd* found = nullptr;
            std::vector<char> buffer(16384);
            if (::getpwnam_r(name, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr && found->pw_uid != 0) {
                as.drop = true;
                as.uid = found->pw_uid;
                as.gid = found->pw_gid;
                as.home = found->pw_dir != nullptr ? found->pw_dir : "/";
                return as;
            }
        }
        throw std::runtime_error("pg_cluster: running as root, and neither a `postgres` nor a `nobody` user to run the server as");
    }

    pg_cluster_detail::run_result ctl(std::vector<std::string> args) const {
        args.insert(args.begin(), bin_dir_ + "/pg_ctl");
        return pg_cluster_detail::run(args, as_, dir_, true);
    }

    std::runtime_error failure(const std::string& what, const pg_cluster_detail::run_result& r, bool with_log) const {
        std::string message = "pg_cluster: " + what + " failed (" + r.how() + "): " + pg_cluster_detail::trim(r.out + r.err);
        if (with_log) message += "\n--- server log (" + log_file() + ") ---\n" + log();
        return std::runtime_error(message);
    }

    void start_up() {
        namespace fs = std::filesystem;
        bin_dir_ = find_bin_dir();
        if (bin_dir_.empty()) throw std::runtime_error("pg_cluster: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin)");
        as_ = server_identity();

        char dir_template[] = "/tmp/corio-pg-XXXXXX";
        if (::mkdtemp(dir_template) == nullptr) throw std::runtime_error(std::string("pg_cluster: mkdtemp: ") + std::strerror(errno));
        dir_ = dir_template;
        socket_dir_ = dir_ + "/socket";
        fs::create_directory(socket_dir_);
        fs::permissions(socket_dir_, fs::perms::owner_all, fs::perm_options::replace);
        const std::string password_file = dir_ + "/password";
        {
            std::ofstream out(password_file);
            out << password() << '\n';
        }
        fs::permissions(password_file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
        if (as_.drop) pg_cluster_detail::chown_tree(dir_, as_);

        start_reaper();

        const auto init = pg_cluster_detail::run({bin_dir_ + "/initdb", "-D", data_dir(), "--auth-local=trust", "--auth-host=scram-sha-256",
                                                  "--username=" + user(), "--pwfile=" + password_file, "-E", "UTF8", "--locale=C",
                                                  "--no-sync"},
                                                 as_, dir_, true);
        if (!init.ok()) throw failure("initdb", init, false);
        std::error_code ignored;
        fs::remove(password_file, ignored);

        for (int attempt = 1;; ++attempt) {
            port_ = free_port();
            if (port_ < 0) throw std::runtime_error("pg_cluster: no free port on 127.0.0.1");
            std::error_code ec;
            const auto logged = fs::exists(log_file(), ec) ? fs::file_size(log_file(), ec) : 0;
            const auto r = ctl({"start", "-D", data_dir(), "-w", "-t", "30", "-l", log_file(), "-o", server_options()});
            if (r.ok()) return;
            // Taken meanwhile by someone else: once more on another port.
            const std::string text = log();
            const bool port_taken = text.find("Address already in use", std::min<std::size_t>(logged, text.size())) != std::string::npos;
            if (!port_taken || attempt == 2) throw failure("pg_ctl start", r, true);
        }
    }

    /// Forks the reaper (see the top of this file); we keep our end of the socket, close-on-exec.
    void start_reaper() {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
            throw std::runtime_error(std::string("pg_cluster: socketpair: ") + std::strerror(errno));
        const int null = pg_cluster_detail::open_dev_null();
        if (null < 0) {
            ::close(pair[0]);
            ::close(pair[1]);
            throw std::runtime_error(std::string("pg_cluster: /dev/null: ") + std::strerror(errno));
        }
        const pid_t pid = pg_cluster_detail::spawn({"/bin/sh", "-c", pg_cluster_detail::reaper_script, "corio-pg-reaper", bin_dir_, dir_},
                                                   pg_cluster_detail::child_environment(as_), {null, null, null, pair[1]}, as_, "/", true);
        ::close(null);
        ::close(pair[1]);
        if (pid < 0) {
            ::close(pair[0]);
            throw std::runtime_error(std::string("pg_cluster: fork: ") + std::strerror(errno));
        }
        pg_cluster_detail::wait_for(pid);  // the intermediate child; the reaper itself is an orphan
        reaper_socket_ = pair[0];
    }

    pid_t owner_ = ::getpid();
    pg_cluster_detail::identity as_;
    std::string bin_dir_;
    std::string dir_;
    std::string socket_dir_;
    int port_ = -1;
    int reaper_socket_ = -1;
};

}  // namespace corio_test_support
