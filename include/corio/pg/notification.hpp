// corio/pg/notification.hpp — what pg::connection::notifications() yields: one NOTIFY a LISTENing
// session received (pg/connection.hpp says how to listen and wait).
// Thread-safety: a value type.
#pragma once

#include <string>

namespace corio::pg {

struct notification {
    std::string channel;  ///< as the notifier named it (pg_notify's first argument)
    std::string payload;  ///< verbatim; "" when the NOTIFY had none
    int backend_pid = 0;  ///< the server process that sent it (pg_stat_activity.pid)
};

}  // namespace corio::pg
