// corio/detail/frame_allocator.hpp — recycling allocator for coroutine frames and task states.
//
// Each thread keeps free lists by size class (up to 2 KiB: a server's routing frame is over 1 KiB);
// a class holds blocks of 16k + 8 bytes, which fill a glibc malloc chunk exactly (its 8-byte
// header makes chunks multiples of 16: a 16k-byte block would cost 16k + 16). A freed block goes
// back to the list of the thread that frees it, so a block may migrate between threads safely. Each list keeps at most a bounded number of blocks, so a burst
// does not pin its memory forever; the lists are returned to the heap when the thread exits.
// Larger blocks go straight to the global allocator.
// Under AddressSanitizer the pool is bypassed so use-after-free bugs stay visible.
//
// The fast paths are inline and touch only trivially destructible thread-locals (no TLS guard).
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__SANITIZE_ADDRESS__)
#define CORIO_FRAME_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORIO_FRAME_POOL 0
#endif
#endif
#ifndef CORIO_FRAME_POOL
#define CORIO_FRAME_POOL 1
#endif

namespace corio::detail {

inline constexpr std::size_t frame_granule = 16;
inline constexpr std::size_t frame_classes = 128;  // blocks up to 2 KiB are pooled

/// The class of a request of `size` bytes: its blocks are frame_block_size(class) bytes.
constexpr std::size_t frame_class(std::size_t size) noexcept { return (size + 7) / frame_granule; }
constexpr std::size_t frame_block_size(std::size_t cls) noexcept { return cls * frame_granule + 8; }
inline constexpr std::uint32_t max_cached_per_class = 8192;

struct frame_free_list {
    void* head = nullptr;     // each free block starts with the pointer to the next one
    std::uint32_t count = 0;  // invariant: the number of blocks reachable from head
};

inline thread_local frame_free_list frame_lists[frame_classes];
/// True once this thread's lists are registered for release at thread exit (and until then).
inline thread_local bool frame_pool_active = false;

void* allocate_frame_slow(std::size_t size);
void deallocate_frame_slow(void* p, std::size_t size) noexcept;

inline void* allocate_frame(std::size_t size) {
    const std::size_t cls = frame_class(size);
    if (CORIO_FRAME_POOL && cls < frame_classes) {
        frame_free_list& list = frame_lists[cls];
        if (void* p = list.head) {
            list.head = *static_cast<void**>(p);
            --list.count;
            return p;
        }
    }
    return allocate_frame_slow(size);
}

inline void deallocate_frame(void* p, std::size_t size) noexcept {
    const std::size_t cls = frame_class(size);
    if (CORIO_FRAME_POOL && cls < frame_classes && frame_pool_active) {
        frame_free_list& list = frame_lists[cls];
        if (list.count < max_cached_per_class) {
            *static_cast<void**>(p) = list.head;
            list.head = p;
            ++list.count;
            return;
        }
    }
    deallocate_frame_slow(p, size);
}

/// Mix-in giving a class (or promise type) pooled operator new/delete.
struct pooled {
    static void* operator new(std::size_t size) { return allocate_frame(size); }
    static void operator delete(void* p, std::size_t size) noexcept { deallocate_frame(p, size); }
};

}  // namespace corio::detail
