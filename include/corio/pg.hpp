// corio/pg.hpp — the async PostgreSQL client: every header of corio/pg/.
#pragma once

#include "corio/pg/batch.hpp"
#include "corio/pg/connection.hpp"
#include "corio/pg/errors.hpp"
#include "corio/pg/notification.hpp"
#include "corio/pg/pool.hpp"
#include "corio/pg/result.hpp"
#include "corio/pg/transaction.hpp"
#include "corio/pg/types.hpp"
