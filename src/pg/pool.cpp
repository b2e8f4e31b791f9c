#include "corio/pg/pool.hpp"

#include "connection_state.hpp"

namespace corio::pg {

task<pool> pool::open(std::string conninfo, pool_options options) {
    const connect_options per_connection = options.connection;
    pool_callbacks<connection> callbacks{
        .open = [conninfo, per_connection]() { return connect(conninfo, per_connection); },
        .close = [](connection& c) { c.close(); },
        .check = [](connection& c) -> task<bool> { co_return c.state_ && c.state_->still_usable(); },
        .reusable = [](const connection& c) { return c.state_ && c.state_->lendable(); },
    };
    const corio::pool_options limits{.min_size = options.min_size,
                                     .max_size = options.max_size,
                                     .acquire_timeout = options.acquire_timeout,
                                     .max_lifetime = options.max_lifetime,
                                     .max_idle = options.max_idle};
    auto shared = std::make_shared<resource_pool<connection>>(std::move(callbacks), limits, "pg " + describe(conninfo).text);
    co_await shared->fill();
    co_return pool(std::move(shared));
}

task<result> pool::run_on(std::shared_ptr<resource_pool<connection>> p, std::string sql, std::vector<param> params) {
    const lease conn = co_await p->acquire();
    co_return co_await connection::run(conn->state_, std::move(sql), std::move(params));
}

task<std::vector<result>> pool::batch_on(std::shared_ptr<resource_pool<connection>> p, batch statements) {
    const lease conn = co_await p->acquire();
    co_return co_await connection::run_pipeline(conn->state_, std::move(statements));
}

}  // namespace corio::pg
