// Implementation of corio/file.hpp: every blocking syscall in a to_thread job; the jobs report
// errno and the loop thread throws, naming the path.
#include "corio/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <utility>

#include "corio/shield.hpp"
#include "corio/to_thread.hpp"

namespace corio {

namespace detail {

/// An open fd, shared by the file and the jobs in flight on it: it closes with the last of them.
struct file_state {
    explicit file_state(int descriptor, bool positional) noexcept : fd(descriptor), seekable(positional) {}
    file_state(const file_state&) = delete;
    file_state& operator=(const file_state&) = delete;
    ~file_state() {
        if (fd >= 0) ::close(fd);
    }

    /// Worker thread (aclose): closes the fd; 0 or the errno.
    int close_now() noexcept {
        const int result = ::close(std::exchange(fd, -1));
        return result == 0 || errno == EINTR ? 0 : errno;  // Linux: after EINTR the fd is gone too
    }

    int fd;                                // -1 once close_now() ran
    const bool seekable;                   // regular file or block device: pread/pwrite at `position`
    std::atomic<std::uint64_t> position{0};  // advanced by the loop after a read, by a write job itself
    bool busy = false;                     // loop thread: an operation is in flight (one at a time)
};

void throw_file_error(std::string_view operation, const std::string& path, int error_number) {
    const std::string message = std::string(operation) + " \"" + path + "\": " + std::strerror(error_number);
    if (error_number == ENOENT) throw file_not_found_error(message, path, error_number);
    if (error_number == EEXIST) throw file_exists_error(message, path, error_number);
    throw file_error(message, path, error_number);
}

}  // namespace detail

namespace {

constexpr std::size_t io_piece = std::size_t{1} << 20;        // the most one write job writes
constexpr std::size_t first_read_piece = std::size_t{16} << 10;  // read_all's first read; doubles

/// A syscall's outcome, carried from the worker to the loop: bytes or 0, else errno.
struct io_result {
    std::size_t bytes = 0;
    int error = 0;
};

/// The result of a read/write-like call, retried on EINTR by the caller.
io_result io_outcome(ssize_t n) noexcept { return n < 0 ? io_result{0, errno} : io_result{static_cast<std::size_t>(n), 0}; }

const char* mode_name(file_mode mode) noexcept {
    switch (mode) {
        case file_mode::read: return "read";
        case file_mode::write: return "write";
        case file_mode::append: return "append";
        case file_mode::read_write: return "read_write";
        case file_mode::create_new: return "create_new";
    }
    return "?";
}

int open_flags(file_mode mode) noexcept {
    switch (mode) {
        case file_mode::read: return O_RDONLY;
        case file_mode::write: return O_WRONLY | O_CREAT | O_TRUNC;
        case file_mode::append: return O_WRONLY | O_CREAT | O_APPEND;
        case file_mode::read_write: return O_RDWR;
        case file_mode::create_new: return O_WRONLY | O_CREAT | O_EXCL;
    }
    return O_RDONLY;
}

/// A worker job running call(state) that lets go of the state as soon as the call returns, before
/// its completion is posted: the pool may drop the job object later, and the fd must not stay
/// open (owned by it) after the operation has returned.
template <class Call>
class state_job {
public:
    state_job(std::shared_ptr<detail::file_state> state, Call call) : state_(std::move(state)), call_(std::move(call)) {}
    auto operator()() {
        auto result = call_(*state_);
        state_.reset();
        return result;
    }

private:
    std::shared_ptr<detail::file_state> state_;
    Call call_;
};

/// Marks a file's state busy for one operation; the state stays alive (and open) until the end.
class operation_guard {
public:
    explicit operation_guard(std::shared_ptr<detail::file_state> state) noexcept : state_(std::move(state)) {
        state_->busy = true;
    }
    operation_guard(const operation_guard&) = delete;
    operation_guard& operator=(const operation_guard&) = delete;
    ~operation_guard() { state_->busy = false; }

    const std::shared_ptr<detail::file_state>& state() const noexcept { return state_; }
    /// Runs call(state) on a worker (to_thread; see state_job). The job is built here, not as a
    /// local of the awaiting coroutine: g++ 12 miscompiled such a local (holding the shared_ptr,
    /// inside a loop around the co_await) and destroyed the guard through a stale register.
    template <class Call>
    auto run(Call call) const {
        return to_thread(state_job<Call>(state_, std::move(call)));
    }

private:
    std::shared_ptr<detail::file_state> state_;
};

/// What an open job hands back: the state owns the fd, so a result discarded (the await was
/// cancelled while the job ran) closes what it opened.
struct opened {
    std::shared_ptr<detail::file_state> state;  // null iff error != 0
    int error = 0;
};

/// `error` of an open refused because the path names a FIFO or a socket.
constexpr int not_a_file = -1;

/// Opened O_NONBLOCK, so that a FIFO without a peer cannot hold the worker, then checked: a FIFO's
/// or socket's reads and writes wait on another process with no bound (not_a_file); other files
/// go back to blocking I/O.
opened open_blocking(const std::string& path, int flags, ::mode_t permissions) {
    int fd;
    do fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, permissions);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return {nullptr, errno};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
        const int error = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ? not_a_file : errno;
        ::close(fd);
        return {nullptr, error};
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    const bool seekable = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
    return {std::make_shared<detail::file_state>(fd, seekable), 0};
}

}  // namespace

file::file() noexcept = default;
file::file(file&&) noexcept = default;
file& file::operator=(file&&) noexcept = default;
file::~file() = default;
file::file(std::string path, std::shared_ptr<detail::file_state> state) noexcept
    : path_(std::move(path)), state_(std::move(state)) {}

task<file> file::open(std::string path, file_mode mode, ::mode_t permissions) {
    opened result = co_await to_thread(open_blocking, path, open_flags(mode), permissions);
    if (result.error == not_a_file)
        throw file_error(std::string("open (") + mode_name(mode) + ") \"" + path +
                             "\": a FIFO or socket, whose I/O waits on another process with no bound (use a pipe "
                             "from corio::process or a Unix socket from corio::net)",
                         path, EINVAL);
    if (result.error != 0) detail::throw_file_error(std::string("open (") + mode_name(mode) + ")", path, result.error);
    co_return file(std::move(path), std::move(result.state));
}

detail::file_state& file::start(const char* operation) const {
    if (!state_) throw std::logic_error(std::string("corio::file: ") + operation + " on a closed file \"" + path_ + "\"");
    if (state_->busy)
        throw std::logic_error(std::string("corio::file: ") + operation + " on \"" + path_ +
                               "\" while another operation is in flight");
    return *state_;
}

task<std::size_t> file::read_some(std::span<char> buffer) {
    start("read_some");
    operation_guard guard(state_);
    const std::uint64_t at = guard.state()->position.load();
    const auto read_job = [buffer, at](detail::file_state& state) {
        ssize_t n;
        do n = state.seekable ? ::pread(state.fd, buffer.data(), buffer.size(), static_cast<off_t>(at))
                              : ::read(state.fd, buffer.data(), buffer.size());
        while (n < 0 && errno == EINTR);
        return io_outcome(n);
    };
    const io_result result = co_await guard.run(read_job);
    if (result.error != 0) detail::throw_file_error("read", path_, result.error);
    guard.state()->position += result.bytes;  // only now: a cancelled read consumed nothing
    co_return result.bytes;
}

task<std::string> file::read_all(std::size_t max_size) {
    detail::file_state& state = start("read_all");
    const std::uint64_t started_at = state.position.load();
    std::string out;
    std::size_t piece = first_read_piece;
    try {
        for (;;) {
            // One byte past the limit is asked for: reading it proves the file exceeds it.
            const std::size_t room_left = max_size - out.size();
            const std::size_t want = room_left < piece ? room_left + 1 : piece;
            const std::size_t old_size = out.size();
            out.resize(old_size + want);
            const std::size_t n = co_await read_some(std::span<char>(out.data() + old_size, want));
            out.resize(old_size + n);
            if (n == 0) co_return out;
            if (out.size() > max_size)
                throw file_too_large_error("read_all \"" + path_ + "\": the file holds more than the limit of " +
                                               std::to_string(max_size) + " bytes",
                                           path_, EFBIG);
            piece = std::min(piece * 2, io_piece);
        }
    } catch (...) {
        if (state_) state_->position = started_at;  // nothing was taken
        throw;
    }
}

task<> file::write_all(std::string_view data) {
    start("write_all");
    operation_guard guard(state_);
    while (!data.empty()) {
        const std::string_view piece = data.substr(0, io_piece);
        const auto write_job = [piece](detail::file_state& state) {
            ssize_t n;
            do n = state.seekable ? ::pwrite(state.fd, piece.data(), piece.size(), static_cast<off_t>(state.position.load()))
                                  : ::write(state.fd, piece.data(), piece.size());
            while (n < 0 && errno == EINTR);
            if (n > 0) state.position += static_cast<std::uint64_t>(n);  // here: true even if the await is cancelled
            return io_outcome(n);
        };
        const io_result result = co_await guard.run(write_job);
        if (result.error != 0) detail::throw_file_error("write", path_, result.error);
        data.remove_prefix(result.bytes);
    }
}

task<> file::sync() {
    start("sync");
    operation_guard guard(state_);
    const auto sync_job = [](detail::file_state& state) { return ::fsync(state.fd) == 0 ? 0 : errno; };
    const int error_number = co_await guard.run(sync_job);
    if (error_number != 0) detail::throw_file_error("sync", path_, error_number);
}

task<std::uint64_t> file::size() {
    start("size");
    operation_guard guard(state_);
    const auto stat_job = [](detail::file_state& state) {
        struct stat st {};
        return ::fstat(state.fd, &st) == 0 ? io_result{static_cast<std::size_t>(st.st_size), 0} : io_result{0, errno};
    };
    const io_result result = co_await guard.run(stat_job);
    if (result.error != 0) detail::throw_file_error("stat", path_, result.error);
    co_return result.bytes;
}

task<> file::aclose() {
    if (!state_) co_return;
    std::shared_ptr<detail::file_state> state = std::move(state_);
    if (state->busy) co_return;  // another task's operation: the fd closes when it ends
    // Cancelled before the job ran: the fd closes with the state's last owner.
    const operation_guard closing(std::move(state));
    const auto close_job = [](detail::file_state& s) { return s.close_now(); };
    const int error_number = co_await closing.run(close_job);
    if (error_number != 0) detail::throw_file_error("close", path_, error_number);
}

void file::close() noexcept { state_.reset(); }

std::uint64_t file::position() const noexcept { return state_ ? state_->position.load() : 0; }

int file::native_handle() const noexcept { return state_ ? state_->fd : -1; }

task<std::string> read_file(std::string path, std::size_t max_size) {
    file f = co_await file::open(std::move(path));
    co_return co_await f.read_all(max_size);  // closed by f's destructor on every path
}

namespace {

/// `.NAME.tmp-<random hex>` beside `path`.
std::string temporary_beside(const std::string& path) {
    static std::atomic<std::uint64_t> counter{0};
    thread_local std::mt19937_64 random(std::random_device{}());
    char suffix[40];
    std::snprintf(suffix, sizeof suffix, ".tmp-%016llx%llx", static_cast<unsigned long long>(random()),
                  static_cast<unsigned long long>(counter.fetch_add(1)));
    const std::filesystem::path target(path);
    return (target.parent_path() / ("." + target.filename().string() + suffix)).string();
}

/// The directory holding `path` ("." for a bare name).
std::string directory_of(const std::string& path) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    return parent.empty() ? std::string(".") : parent.string();
}

/// 0, or the errno and the step that failed.
struct commit_result {
    int error = 0;
    const char* step = nullptr;
};

/// Worker thread: renames `temp` over `path` (removing `temp` if that fails) and fsyncs the
/// directory.
commit_result commit_blocking(const std::string& temp, const std::string& path, const std::string& directory) {
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const int error_number = errno;
        ::unlink(temp.c_str());
        return {error_number, "rename into"};
    }
    const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return {errno, "sync directory of"};
    const int synced = ::fsync(dir) == 0 ? 0 : errno;
    ::close(dir);
    return {synced, synced != 0 ? "sync directory of" : nullptr};
}

}  // namespace

task<> write_file(std::string path, std::string data, ::mode_t permissions) {
    const std::string temp = temporary_beside(path);
    // Uncancellable: a temporary file created by an open whose await was cancelled would be left
    // behind; cancellation then arrives at the first write below, which removes it.
    file out = co_await uncancellable(file::open(temp, file_mode::create_new, permissions));
    std::exception_ptr failure;
    try {
        co_await out.write_all(data);
        co_await out.sync();
        co_await out.aclose();
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        out.close();
        const auto remove_temp = [temp] { ::unlink(temp.c_str()); };
        co_await uncancellable(to_thread(remove_temp));
        std::rethrow_exception(failure);
    }
    const commit_result committed = co_await uncancellable(to_thread(commit_blocking, temp, path, directory_of(path)));
    if (committed.error != 0) detail::throw_file_error(committed.step, path, committed.error);
}

}  // namespace corio
