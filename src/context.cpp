// Implementation of corio/detail/context.hpp: releasing context links.
#include "corio/detail/context.hpp"

namespace corio::detail {

context_link::~context_link() = default;

void context_ref::drop(const context_link* l) noexcept {
    // Iterative: a long chain must not recurse once per link.
    while (l != nullptr && l->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        const context_link* next = l->next_;
        delete l;
        l = next;
    }
}

}  // namespace corio::detail
