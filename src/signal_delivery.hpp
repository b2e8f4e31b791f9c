// src/signal_delivery.hpp — the process's one signal handler and whom it delivers to (private).
//
// Every signal corio catches goes through one handler (src/signals.cpp), which touches only
// atomics and write()s an eventfd, so it is async-signal-safe. A signal goes to the
// signal_receiver holding it, if any (corio/signals.hpp: counted per signal number, the
// receiving loop's eventfd written); else, if it is one the owner loop took
// (event_loop::try_handle_signals: SIGINT, SIGTERM, maybe SIGUSR1), it is stored in
// owner_pending and the owner's eventfd is written. Dispositions are counted per signal: the
// first claim installs the handler, the last unclaim puts back the disposition found then, so
// a receiver and the owner may hold the same signal in any order.
//
// Protocol for a user (owner or receiver): route first (set its eventfd), then claim; to give a
// signal up, unclaim first, then unroute, then wait_for_handlers() before its eventfd may close.
// Thread-safety: claim/unclaim take a process-wide mutex; the atomics are for the handler.
#pragma once

#include <atomic>
#include <cstdint>

namespace corio::detail::signal_delivery {

/// The owner loop's eventfd while it owns signals, else -1.
extern std::atomic<int> owner_wake_fd;
/// Bit (signo - 1) set: the owner takes that signal when no receiver holds it.
extern std::atomic<std::uint64_t> owner_signals;
/// The last signal delivered to the owner and not yet handled by it, or 0.
extern std::atomic<int> owner_pending;

inline std::uint64_t signal_bit(int signo) noexcept { return std::uint64_t{1} << (signo - 1); }

/// One more user of `signo`: the first installs corio's handler, remembering the disposition it
/// replaces. Throws corio::error naming the signal and errno if sigaction refuses.
void claim(int signo);
/// One user fewer: the last puts back the disposition claim() found.
void unclaim(int signo) noexcept;
/// Returns once no signal handler that might have read a routing being cleared still runs.
void wait_for_handlers() noexcept;

}  // namespace corio::detail::signal_delivery
