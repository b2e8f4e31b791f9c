#include "corio/detail/frame_allocator.hpp"

#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define CORIO_POOL_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORIO_POOL_DISABLED 1
#endif
#endif

namespace corio::detail {
namespace {

constexpr std::size_t granule = 16;
constexpr std::size_t class_count = 64;  // blocks up to 1 KiB are pooled
constexpr std::size_t max_cached_per_class = 8192;

struct free_block {
    free_block* next;
};

class frame_pool {
public:
    frame_pool() = default;
    frame_pool(const frame_pool&) = delete;
    frame_pool& operator=(const frame_pool&) = delete;
    ~frame_pool() {
        destroyed = true;
        for (auto& list : lists_) {
            while (list.head) {
                free_block* b = list.head;
                list.head = b->next;
                ::operator delete(b);
            }
        }
    }

    // A block freed by a thread_local destructor that runs after this pool's goes to the heap.
    static thread_local inline bool destroyed = false;

    void* take(std::size_t cls) {
        free_list& list = lists_[cls];
        if (free_block* b = list.head) {
            list.head = b->next;
            --list.count;
            return b;
        }
        return ::operator new((cls + 1) * granule);
    }

    void give(void* p, std::size_t cls) noexcept {
        free_list& list = lists_[cls];
        if (list.count >= max_cached_per_class) {
            ::operator delete(p);
            return;
        }
        auto* b = static_cast<free_block*>(p);
        b->next = list.head;
        list.head = b;
        ++list.count;
    }

private:
    struct free_list {
        free_block* head = nullptr;  // invariant: exactly `count` blocks reachable from head
        std::size_t count = 0;
    };
    free_list lists_[class_count];
};

thread_local frame_pool pool;

std::size_t size_class(std::size_t size) { return (size + granule - 1) / granule - 1; }

bool pooled_size(std::size_t size) {
    return size != 0 && size <= class_count * granule && !frame_pool::destroyed;
}

}  // namespace

void* allocate_frame(std::size_t size) {
#ifndef CORIO_POOL_DISABLED
    if (pooled_size(size)) return pool.take(size_class(size));
#endif
    return ::operator new(size);
}

void deallocate_frame(void* p, std::size_t size) noexcept {
#ifndef CORIO_POOL_DISABLED
    if (pooled_size(size)) {
        pool.give(p, size_class(size));
        return;
    }
#endif
    ::operator delete(p);
}

}  // namespace corio::detail
