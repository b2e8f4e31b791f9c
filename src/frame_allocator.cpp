#include "corio/detail/frame_allocator.hpp"

#include <new>

namespace corio::detail {
namespace {

// Returns the thread's cached blocks to the heap when the thread exits.
struct frame_pool_reaper {
    frame_pool_reaper() noexcept { frame_pool_active = true; }
    frame_pool_reaper(const frame_pool_reaper&) = delete;
    frame_pool_reaper& operator=(const frame_pool_reaper&) = delete;
    ~frame_pool_reaper() {
        frame_pool_active = false;  // blocks freed from now on go straight to the heap
        reaped = true;
        for (frame_free_list& list : frame_lists) {
            while (void* p = list.head) {
                list.head = *static_cast<void**>(p);
                ::operator delete(p);
            }
            list.count = 0;
        }
    }
    static inline thread_local bool reaped = false;  // trivially destructible: safe after ~reaper
};

bool pooled_class(std::size_t size) { return CORIO_FRAME_POOL && frame_class(size) < frame_classes; }

}  // namespace

void* allocate_frame_slow(std::size_t size) {
    // A pooled block is allocated at its class's full size so any request of that class can reuse it.
    return ::operator new(pooled_class(size) ? frame_block_size(frame_class(size)) : size);
}

void deallocate_frame_slow(void* p, std::size_t size) noexcept {
    if (pooled_class(size) && !frame_pool_active && !frame_pool_reaper::reaped) {
        static thread_local frame_pool_reaper reaper;  // registers the thread-exit cleanup once
        deallocate_frame(p, size);
        return;
    }
    ::operator delete(p);
}

}  // namespace corio::detail
