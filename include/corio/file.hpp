// corio/file.hpp — file, read_file, write_file: files on the worker pool (Trio's trio.open_file).
//
// snippet: examples/files.cpp#whole
//   // Atomic: readers see the old file or the new one, never half of it.
//   co_await corio::write_file(config, "port = 8080\n");
//   std::string text = co_await corio::read_file(config);  // bounded: file_too_large_error past 64 MiB
//
// snippet: examples/files.cpp#append
//   corio::file log = co_await corio::file::open(path, corio::file_mode::append);
//   co_await log.write_all("started\n");
//   co_await log.sync();  // on the disk before we go on
//   co_await log.aclose();
//
// snippet: examples/files.cpp#read
//   corio::file in = co_await corio::file::open(path);
//   std::array<char, 4096> buffer;
//   for (;;) {
//       const std::size_t n = co_await in.read_some(buffer);  // 0 at the end of the file
//       if (n == 0) break;
//       std::fwrite(buffer.data(), 1, n, stdout);
//   }
//
// Local disks have no readiness to wait for, so every blocking syscall (open, read, write,
// fsync, fstat, close, rename, unlink) runs on the worker pool through to_thread while the loop
// goes on. Writes go out in pieces of at most 1 MiB, one worker job each; a read_some is one job.
// Modes (file_mode): read (the file must exist), write (created or truncated), append (created;
// every write goes to the end), read_write (must exist; not truncated), create_new (created; fails
// with file_exists_error if it exists). Every fd is opened O_CLOEXEC.
//
// Position: a file keeps its own position(). On a regular file (or a block device) reads and
// writes are pread/pwrite at that position, so a read whose await was cancelled consumed
// nothing; character devices use read/write. FIFOs and sockets are refused at open (file_error):
// their I/O waits on another process with no bound, which a worker job could not give up.
//
// Cancel safety. A worker job cannot be interrupted: a cancelled await whose job has not started
// skips it and throws cancelled_error at once; one whose job runs WAITS for it to finish, then
// throws cancelled_error (to_thread's default). So the fd is never closed, nor the caller's
// buffer freed, while a worker uses it; a job also holds the file's descriptor (shared), so even a
// close() from another task closes the fd only when the job is done.
//   open — nothing stays open (a file the job opened is closed); create_new/write/append may
//     have created (or truncated) the file.
//   read_some — nothing consumed: position() is unchanged (seekable files; on a character
//     device the bytes read are lost).
//   read_all — position() goes back to where it was (seekable files).
//   write_all — a prefix of the data is in the file, and position() is just after it.
//   sync, size — nothing changes (an fsync that ran completed).
//   aclose — the file is closed anyway.
//   write_file — the target is unchanged and the temporary file removed; cancellation during the
//     final rename is deferred until it is done (then the call returns and the target is new).
//   read_file — the file is closed.
// One operation at a time per file: starting one while another is in flight (from another task)
// throws std::logic_error.
//
// Throws: file_error (the operation, the path and the errno text: `open "/etc/x": Permission
// denied`), file_not_found_error (ENOENT), file_exists_error (EEXIST), file_too_large_error
// (read_all/read_file past their limit), cancelled_error; std::logic_error for an operation on a
// closed file or a second one in flight.
// Thread-safety: a file belongs to the loop that uses it (its jobs run on workers). Move-only.
// The destructor and close() let go of the fd at once (a job still using it closes it when it
// ends); aclose() closes it on a worker and reports the close's error (async_with calls it).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "corio/error.hpp"
#include "corio/task.hpp"

namespace corio {

/// How file::open opens a file; see the header comment.
enum class file_mode {
    read,        ///< O_RDONLY: must exist
    write,       ///< O_WRONLY | O_CREAT | O_TRUNC
    append,      ///< O_WRONLY | O_CREAT | O_APPEND
    read_write,  ///< O_RDWR: must exist, kept as it is
    create_new,  ///< O_WRONLY | O_CREAT | O_EXCL: file_exists_error if it exists
};

/// A file operation failed. what(): `<operation> "<path>": <errno text>`.
class file_error : public error {
public:
    file_error(const std::string& message, std::string path, int error_number)
        : error(message), path_(std::move(path)), error_number_(error_number) {}
    const std::string& path() const noexcept { return path_; }
    /// The errno value (ENOENT, EACCES, ...); EFBIG for file_too_large_error.
    int error_number() const noexcept { return error_number_; }

private:
    std::string path_;
    int error_number_;
};

/// ENOENT: the file (or a directory on its path) does not exist.
class file_not_found_error : public file_error {
public:
    using file_error::file_error;
};

/// EEXIST: file_mode::create_new on a file that exists.
class file_exists_error : public file_error {
public:
    using file_error::file_error;
};

/// read_all / read_file: the file holds more than the limit. Nothing is returned.
class file_too_large_error : public file_error {
public:
    using file_error::file_error;
};

/// What read_all and read_file accept by default.
inline constexpr std::size_t default_read_limit = std::size_t{64} << 20;

namespace detail {
struct file_state;  // src/file.cpp: the fd and position, shared with the jobs in flight
/// Throws `<operation> "<path>": <errno text>` as the file_error subclass errno calls for.
[[noreturn]] void throw_file_error(std::string_view operation, const std::string& path, int error_number);
}  // namespace detail

class file {
public:
    file() noexcept;  ///< closed
    file(file&&) noexcept;
    file& operator=(file&&) noexcept;
    ~file();

    /// Opens `path`; new files get `permissions` (less the umask). Throws file_error (and its
    /// subclasses) naming the path.
    static task<file> open(std::string path, file_mode mode = file_mode::read, ::mode_t permissions = 0666);

    /// Reads up to buffer.size() bytes at position(); 0 at the end of the file.
    task<std::size_t> read_some(std::span<char> buffer);
    /// Reads from position() to the end; file_too_large_error past `max_size` bytes.
    task<std::string> read_all(std::size_t max_size = default_read_limit);
    /// Writes all of `data` at position() (at the end in append mode). `data` must stay alive
    /// until the await completes.
    task<> write_all(std::string_view data);
    /// fsync: what was written is on the disk.
    task<> sync();
    /// The file's size now (fstat).
    task<std::uint64_t> size();
    /// Closes on a worker and reports the close's error (a delayed write error on NFS).
    task<> aclose();
    /// Closes now, without reporting errors. Idempotent.
    void close() noexcept;

    bool is_open() const noexcept { return state_ != nullptr; }
    const std::string& path() const noexcept { return path_; }
    /// Where the next read or write goes (bytes from the start).
    std::uint64_t position() const noexcept;
    /// The fd, -1 when closed; the file still owns it.
    int native_handle() const noexcept;

private:
    file(std::string path, std::shared_ptr<detail::file_state> state) noexcept;
    /// The open state for `operation`; throws std::logic_error if closed or busy.
    detail::file_state& start(const char* operation) const;

    std::string path_;
    std::shared_ptr<detail::file_state> state_;  // null iff closed
};

/// The whole file at `path`, opened, read and closed; file_too_large_error past `max_size`.
task<std::string> read_file(std::string path, std::size_t max_size = default_read_limit);

/// Replaces `path` atomically with `data`: writes a temporary file beside it (`.NAME.tmp-XXXX`,
/// created with `permissions` less the umask), fsyncs it, renames it over `path` and fsyncs the
/// directory. On failure or cancellation the target is unchanged and the temporary file removed
/// (but a failure to sync the directory comes after the rename: the target is then new).
task<> write_file(std::string path, std::string data, ::mode_t permissions = 0666);

}  // namespace corio
