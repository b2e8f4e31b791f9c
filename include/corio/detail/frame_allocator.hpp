// corio/detail/frame_allocator.hpp — recycling allocator for coroutine frames and task states.
//
// Each thread keeps free lists by 16-byte size class (up to 1 KiB); a freed block goes back to the
// list of the thread that frees it, so a block may migrate between threads safely. Each list keeps
// at most a bounded number of blocks, so a burst does not pin its memory forever. Larger blocks go
// straight to the global allocator. Under AddressSanitizer the pool is bypassed so use-after-free
// bugs stay visible.
#pragma once

#include <cstddef>

namespace corio::detail {

void* allocate_frame(std::size_t size);
void deallocate_frame(void* p, std::size_t size) noexcept;

/// Mix-in giving a class (or promise type) pooled operator new/delete.
struct pooled {
    static void* operator new(std::size_t size) { return allocate_frame(size); }
    static void operator delete(void* p, std::size_t size) noexcept { deallocate_frame(p, size); }
};

}  // namespace corio::detail
