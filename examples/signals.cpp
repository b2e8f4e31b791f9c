// Signals and timers: a service that reloads its configuration on SIGHUP and stops on SIGTERM
// (signal_receiver), with an operator's `kill` simulated by callbacks the loop runs later
// (event_loop::call_later, timer_handle). The regions between snippet markers are the examples
// corio/signals.hpp and corio/event_loop.hpp show (scripts/readme_snippets.py keeps them identical).
#include <corio/corio.hpp>
#include <corio/signals.hpp>

#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <stdexcept>

using namespace std::chrono_literals;

void check(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

corio::task<> service() {
    int reloads = 0;
    bool never_ran = true;
    // [snippet call_later]
    corio::event_loop& loop = corio::current_loop("service");
    // An operator's `kill -HUP <pid>`, twice, then `kill -TERM <pid>`, in 10 ms steps.
    loop.call_later(10ms, [] { ::kill(::getpid(), SIGHUP); });  // dropping the handle does not cancel
    loop.call_later(20ms, [] { ::kill(::getpid(), SIGHUP); });
    corio::timer_handle stop = loop.call_later(30ms, [] { ::kill(::getpid(), SIGTERM); });
    corio::timer_handle forgotten = loop.call_at(loop.now() + 1h, [&never_ran] { never_ran = false; });
    const bool was_pending = forgotten.cancel();  // true: it had not run yet; it never will
    // [end snippet]
    check(was_pending && forgotten.cancelled() && stop.when() == forgotten.when() - 1h + 30ms,
          "call_later: the handles know their times; cancel() stopped the pending call");

    // [snippet reload]
    auto signals = corio::open_signals({SIGHUP, SIGTERM});  // SIGTERM comes here now, not as a cancellation
    for (;;) {
        const int signo = co_await corio::wait_for(signals.next(), 10s);  // no signal is lost between next()s
        if (signo == SIGTERM) break;
        ++reloads;
        std::printf("SIGHUP: reloading the configuration\n");
    }
    // [end snippet]
    check(reloads == 2, "signals: two SIGHUPs received as reloads, then SIGTERM as the stop");
    check(!stop.cancel() && never_ran, "call_later: the stop call ran; the cancelled call never did");
}

int main() { corio::run(service()); }
