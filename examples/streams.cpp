// Streams and resources: async generators, for_each, a generator whose next() is cancel-safe,
// async_with, timeouts on a stream.
#include <corio/corio.hpp>

#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

corio::task<std::vector<int>> fetch_page(int page) {
    co_await corio::sleep(10ms);
    if (page > 3) co_return std::vector<int>{};
    co_return std::vector<int>{page * 10, page * 10 + 1};
}

// [snippet generator]
// Like an async generator in Python: values are produced lazily, one page at a time.
corio::async_generator<int> all_items() {
    for (int page = 1;; ++page) {
        std::vector<int> items = co_await corio::wait_for(fetch_page(page), 1s);
        if (items.empty()) co_return;
        for (int item : items) co_yield item;
    }
}
// [end snippet]

// A generator whose next() is cancel-safe: a wait_for(next(), d) that expires loses nothing.
corio::async_generator<std::string> messages(corio::queue<std::string>& inbox) {
    for (;;) {
        std::string message;
        // [snippet yield_exception]
        std::exception_ptr cancelled;
        try { message = co_await inbox.pop(); } catch (const corio::cancelled_error&) { cancelled = std::current_exception(); }
        if (cancelled) co_yield corio::yield_exception(cancelled);  // next() throws it; the body stays here
        // [end snippet]
        if (!cancelled) co_yield std::move(message);
    }
}

struct connection {
    bool* closed;
    corio::task<int> query() {
        co_await corio::sleep(5ms);
        co_return 42;
    }
    corio::task<> aclose() {  // async_with awaits this on every exit path
        co_await corio::sleep(1ms);
        *closed = true;
    }
};

corio::task<connection> connect(bool* closed) {
    co_await corio::sleep(5ms);
    co_return connection{closed};
}

corio::task<int> streams() {
    int sum = 0;
    // [snippet for_each]
    auto items = all_items();
    while (std::optional<int> item = co_await items.next()) sum += *item;
    // or: co_await corio::for_each(all_items(), [&](int item) { sum += item; });
    // [end snippet]
    std::printf("sum of items: %d\n", sum);

    corio::queue<std::string> inbox(8);
    auto stream = messages(inbox);
    bool timed_out = false;
    try {
        co_await corio::wait_for(stream.next(), 5ms);  // nothing arrives in time
    } catch (const corio::timeout_error&) {
        timed_out = true;
    }
    inbox.try_push("hello");
    const std::optional<std::string> message = co_await stream.next();  // the generator carries on
    std::printf("after a timeout: %s\n", message.value_or("(nothing)").c_str());

    bool closed = false;
    // [snippet async_with]
    // Like `async with`: aclose() runs after success, error, timeout or cancellation,
    // shielded from cancellation and bounded (close_timeout, default 5 s).
    int answer = co_await corio::async_with(connect(&closed), [](connection& c) -> corio::task<int> {
        co_return co_await c.query();
    });
    // [end snippet]
    std::printf("answer %d, connection closed: %s\n", answer, closed ? "yes" : "no");
    co_return sum == 10 + 11 + 20 + 21 + 30 + 31 && timed_out && message == "hello" && answer == 42 && closed ? 0 : 1;
}

int main() { return corio::run(streams()); }
