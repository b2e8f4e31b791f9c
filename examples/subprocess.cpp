// Child processes: run_process (run a command to its end, bounded, checked, output captured), a
// process spawned with pipes both ways (a conversation with cat), and a timeout that stops a
// child that would run for 100 s. The regions between snippet markers are the examples
// include/corio/process.hpp shows (scripts/readme_snippets.py keeps them identical).
#include <corio/corio.hpp>
#include <corio/process.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

void check(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

corio::task<> run_to_the_end() {
    // [snippet run_process]
    corio::run_process_options options;
    options.capture_output = true;
    options.timeout = 10s;  // then SIGTERM, and SIGKILL after options.kill_grace
    corio::completed_process done = co_await corio::run_process({"uname", "-s"}, options);
    std::printf("uname says %s", done.out.c_str());  // check (the default) threw if it failed
    // [end snippet]
    check(done.exit_code == 0 && done.out == "Linux\n", "run_process captured uname's output");
}

corio::task<> talk_to_cat() {
    // [snippet spawn]
    corio::process_options options;
    options.in = corio::stdio::pipe;
    options.out = corio::stdio::pipe;
    corio::process cat = corio::process::spawn({"cat"}, options);
    co_await cat.write("hello through cat\n");
    cat.close_stdin();  // cat sees end of input and exits
    std::string echoed = co_await cat.read_all();  // stdout, up to its end
    corio::exit_status status = co_await cat.wait();
    // [end snippet]
    std::printf("cat echoed %s", echoed.c_str());
    check(echoed == "hello through cat\n" && status.success(), "cat echoed its input and exited with 0");
}

corio::task<> stop_a_slow_child() {
    corio::run_process_options options;
    options.timeout = 100ms;
    try {
        co_await corio::run_process({"sleep", "100"}, options);
        check(false, "sleep 100 finished within 100 ms");
    } catch (const corio::timeout_error& e) {
        std::printf("%s\n", e.what());  // names the command, and how the child was stopped
    }
    try {
        co_await corio::run_process({"false"}, options);
        check(false, "false succeeded");
    } catch (const corio::process_error& e) {
        std::printf("%s\n", e.what());
        check(e.status().exit_code() == 1, "check: false's failure is a process_error with its exit code");
    }
}

corio::task<int> subprocesses() {
    co_await run_to_the_end();
    co_await talk_to_cat();
    co_await stop_a_slow_child();
    co_return 0;
}

int main() { return corio::run(subprocesses()); }
