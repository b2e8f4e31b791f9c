// Implementation of corio/sleep.hpp: the parts off the hot path.
#include "corio/sleep.hpp"

namespace corio::detail {

void sleep_wait::throw_awaited_twice() {
    throw error("corio: a sleep is awaited once, and this one was awaited or moved from before (make a new sleep() for another wait)");
}

// Out of line, so that the compiler does not follow a moved-from sleep's destructor (whose
// task_ is spent_mark()) into this dereference, which it cannot see is never reached.
void sleep_wait::remove_timer() noexcept { task_->loop().remove_timer(*this); }

}  // namespace corio::detail
