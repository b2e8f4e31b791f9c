// A named task awaited as an lvalue: a task runs once, so awaiting it takes it (std::move), and
// what is left is visibly spent. (clang: no await_ready on a task; g++ 12: the &&-only operator
// co_await does not bind it.)
// expect: await_ready|discards qualifiers
#include <corio/task.hpp>

#include <utility>

corio::task<int> answer() { co_return 42; }

corio::task<int> await_by_name() {
    auto t = answer();
#ifdef CORIO_MISTAKE
    co_return co_await t;
#else
    co_return co_await std::move(t);
#endif
}
