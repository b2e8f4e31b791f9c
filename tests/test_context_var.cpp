// context_var: bindings per task, inherited at spawn by every way of starting a task, restored
// on every path out of their block, carried into to_thread and into log lines.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <corio/context_var.hpp>
#include <corio/corio.hpp>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

const corio::context_var<std::string> tenant;
const corio::context_var<int> depth;

std::string tenant_now() { return tenant.value_or("(none)"); }

corio::task<std::string> tenant_after(std::chrono::nanoseconds d) {
    co_await corio::sleep(d);
    co_return tenant_now();
}

}  // namespace

TEST(context_var, unset_reads_null_and_a_binding_ends_with_its_block) {
    corio_test::run_virtual([]() -> corio::task<> {
        EXPECT_EQ(tenant.get(), nullptr);
        {
            const auto bound = tenant.set("acme");
            EXPECT_EQ(tenant_now(), "acme");
            {
                const auto inner = tenant.set("globex");
                EXPECT_EQ(tenant_now(), "globex");
            }
            EXPECT_EQ(tenant_now(), "acme");
            co_await corio::sleep(1ms);
            EXPECT_EQ(tenant_now(), "acme");  // across a suspension
        }
        EXPECT_EQ(tenant.get(), nullptr);
    });
}

TEST(context_var, variables_are_independent) {
    corio_test::run_virtual([]() -> corio::task<> {
        const auto a = tenant.set("acme");
        const auto b = depth.set(3);
        EXPECT_EQ(tenant_now(), "acme");
        EXPECT_EQ(depth.value_or(0), 3);
        co_return;
    });
}

TEST(context_var, a_spawned_task_sees_its_spawners_bindings_as_they_were_at_the_spawn) {
    corio_test::run_virtual([]() -> corio::task<> {
        std::optional<corio::join_handle<std::string>> child;
        {
            const auto bound = tenant.set("acme");
            child.emplace(corio::spawn(tenant_after(10ms)));
        }
        const auto later = tenant.set("globex");  // after the spawn: not the child's
        EXPECT_EQ(co_await *child, "acme");
        EXPECT_EQ(tenant_now(), "globex");
    });
}

TEST(context_var, a_childs_own_binding_stays_in_the_child) {
    corio_test::run_virtual([]() -> corio::task<> {
        const auto bound = tenant.set("parent");
        auto child = corio::spawn(tenant.scoped("child", tenant_after(5ms)));
        co_await corio::sleep(1ms);
        EXPECT_EQ(tenant_now(), "parent");
        EXPECT_EQ(co_await child, "child");
        EXPECT_EQ(tenant_now(), "parent");
    });
}

TEST(context_var, gather_task_group_task_set_and_wait_for_children_inherit) {
    corio_test::run_virtual([]() -> corio::task<> {
        const auto bound = tenant.set("acme");
        auto [a, b] = co_await corio::gather(tenant_after(1ms), tenant_after(2ms));
        EXPECT_EQ(a, "acme");
        EXPECT_EQ(b, "acme");
        std::vector<std::string> seen;
        co_await corio::with_task_group([&seen](corio::task_group& tg) -> corio::task<> {
            tg.spawn(corio::invoke([&seen]() -> corio::task<> { seen.push_back(co_await tenant_after(1ms)); }));
            co_return;
        });
        EXPECT_EQ(seen, std::vector<std::string>{"acme"});
        corio::task_set background;
        auto h = background.spawn(tenant_after(1ms));
        EXPECT_EQ(co_await h, "acme");
        co_await background.join_all();
        EXPECT_EQ(co_await corio::wait_for(tenant_after(1ms), 1s), "acme");
    });
}

TEST(context_var, scoped_binds_around_one_awaitable_only) {
    corio_test::run_virtual([]() -> corio::task<> {
        EXPECT_EQ(co_await tenant.scoped("acme", tenant_after(1ms)), "acme");
        EXPECT_EQ(tenant.get(), nullptr);
    });
}

TEST(context_var, a_binding_ends_when_its_task_is_cancelled) {
    corio_test::run_virtual([]() -> corio::task<> {
        const auto outer = tenant.set("outer");
        auto h = corio::spawn(tenant.scoped("inner", corio::sleep(1h)));
        co_await corio::sleep(1ms);
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
        // And in the awaiting task, a wait_for cut short leaves the outer binding in place.
        try {
            co_await corio::wait_for(tenant.scoped("cut", corio::sleep(1h)), 5ms);
        } catch (const corio::timeout_error&) {
        }
        EXPECT_EQ(tenant_now(), "outer");
    });
}

TEST(context_var, to_thread_runs_with_the_awaiting_tasks_bindings) {
    corio::run(corio::invoke([]() -> corio::task<> {
        const auto bound = tenant.set("acme");
        const auto on_worker = co_await corio::to_thread([] {
            return std::pair(tenant_now(), std::this_thread::get_id());
        });
        EXPECT_EQ(on_worker.first, "acme");
        EXPECT_NE(on_worker.second, std::this_thread::get_id());
    }));
    // The worker thread keeps nothing: a job from a task without bindings sees none.
    corio::run(corio::invoke([]() -> corio::task<> {
        EXPECT_EQ(co_await corio::to_thread([] { return tenant_now(); }), "(none)");
    }));
    EXPECT_EQ(tenant.get(), nullptr);  // outside tasks, on this thread
}

TEST(context_var, outside_any_task_a_binding_belongs_to_the_thread_and_tasks_inherit_it) {
    const auto bound = tenant.set("main");
    EXPECT_EQ(tenant_now(), "main");
    std::string seen_in_root;
    corio::run(corio::invoke([&seen_in_root]() -> corio::task<> {
        seen_in_root = tenant_now();
        co_return;
    }));
    EXPECT_EQ(seen_in_root, "main");
    std::string other_thread = "unset";
    std::thread([&other_thread] { other_thread = tenant_now(); }).join();
    EXPECT_EQ(other_thread, "(none)");
}

TEST(context_var, log_lines_carry_the_bound_request_id) {
    std::vector<std::string> logged;
    const auto previous = corio::set_error_logger([&](std::string_view m) { logged.emplace_back(m); });
    corio_test::run_virtual([]() -> corio::task<> {
        corio::log_error("before");
        const auto bound = corio::request_id.set("r-42");
        corio::log_error("inside");
        co_await corio::spawn(corio::invoke([]() -> corio::task<> {
            co_await corio::sleep(1ms);
            corio::log_error("in a child");
        }));
        const auto opted_out = corio::request_id.set("");  // an empty id is no id
        corio::log_error("opted out");
    });
    corio::set_error_logger(previous);
    ASSERT_EQ(logged.size(), 4u);
    EXPECT_EQ(logged[3], "opted out");
    EXPECT_EQ(logged[0], "before");
    EXPECT_EQ(logged[1], "inside [request_id=r-42]");
    EXPECT_EQ(logged[2], "in a child [request_id=r-42]");
}

TEST(context_var, many_bindings_and_tasks_release_every_link) {
    // Under ASan a leaked or twice-freed link fails this; elsewhere it shows chains are freed
    // without recursion (100k links deep).
    corio_test::run_virtual([]() -> corio::task<> {
        std::vector<std::unique_ptr<corio::context_var<int>::binding>> deep;
        deep.reserve(100'000);
        for (int i = 0; i < 100'000; ++i) deep.emplace_back(new corio::context_var<int>::binding(depth.set(i)));
        EXPECT_EQ(depth.value_or(-1), 99'999);
        auto child = corio::spawn(corio::invoke([]() -> corio::task<int> { co_return depth.value_or(-1); }));
        while (!deep.empty()) deep.pop_back();
        EXPECT_EQ(co_await child, 99'999);
        EXPECT_EQ(depth.get(), nullptr);
    });
}
