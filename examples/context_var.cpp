// context_var: a value that follows a task and the tasks it starts (Python's contextvars).
// Here a tenant name set once reaches code two calls and two tasks away without being passed.
#include <corio/context_var.hpp>
#include <corio/corio.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {

// [snippet variable]
corio::context_var<std::string> tenant;  // a namespace-scope variable

corio::task<std::string> report() {
    co_await corio::sleep(10ms);
    co_return "report for " + tenant.value_or("nobody");  // read where it is needed
}
// [end snippet]

// [snippet tenant]
corio::task<> nightly() {
    auto bound = tenant.set("acme");          // until `bound` goes out of scope
    auto [a, b] = co_await corio::gather(report(), report());  // both children see "acme"
    std::printf("%s, %s\n", a.c_str(), b.c_str());
    const std::string other = co_await tenant.scoped("globex", report());  // bound for this call only
    std::printf("%s\n", other.c_str());
}
// [end snippet]

void expect(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) throw std::runtime_error(what);
}

corio::task<> check() {
    co_await nightly();
    expect(tenant.get() == nullptr, "the binding ended with nightly()");
    auto bound = tenant.set("initech");
    const std::string on_worker = co_await corio::to_thread([] { return tenant.value_or("nobody"); });
    expect(on_worker == "initech", "to_thread's call sees the awaiting task's value");
}

}  // namespace

int main() {
    corio::run(check());
    return 0;
}
