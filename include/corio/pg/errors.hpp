// corio/pg/errors.hpp — what the PostgreSQL client throws.
//
//   corio::error
//     ├─ pg::query_error            the server refused a statement: SQLSTATE, message, detail,
//     │                             hint and the statement ("pg query failed [42P01]: relation
//     │                             \"nope\" does not exist (statement: select * from nope)")
//     ├─ pg::conversion_error       a value could not be read as the C++ type asked for (the
//     │                             column, the type and the text are named)
//     └─ corio::connection_error
//          └─ pg::connection_error  connecting failed, or the connection broke (libpq's
//                                   message, with any password removed)
// Also: corio::timeout_error (connect, query and close are bounded), corio::cancelled_error.
// Thread-safety: value types.
#pragma once

#include <string>

#include "corio/error.hpp"

namespace corio::pg {

class connection_error : public corio::connection_error {
public:
    using corio::connection_error::connection_error;
};

class query_error : public corio::error {
public:
    struct fields {
        std::string sqlstate;   ///< five characters, e.g. "23505" (unique_violation)
        std::string message;    ///< the server's primary message
        std::string detail;     ///< "" when the server sent none
        std::string hint;       ///< "" when the server sent none
        std::string statement;  ///< the SQL that failed
    };
    explicit query_error(fields f);

    const std::string& sqlstate() const noexcept { return fields_.sqlstate; }
    const std::string& message() const noexcept { return fields_.message; }
    const std::string& detail() const noexcept { return fields_.detail; }
    const std::string& hint() const noexcept { return fields_.hint; }
    const std::string& statement() const noexcept { return fields_.statement; }

private:
    fields fields_;
};

class conversion_error : public corio::error {
public:
    using corio::error::error;
};

}  // namespace corio::pg
