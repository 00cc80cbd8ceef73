/* The write queue's wake word (cairn_support.h): a futex on Linux, where a
 * leader's one FUTEX_WAKE reaches its whole group. Elsewhere a portable
 * fallback (a short sleep) keeps the semantics: waiters recheck in a loop. */
#include "cairn_support.h"

#include <time.h>
#ifdef __linux__
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

uint32_t cairn_support_wakeword_value(const uint32_t *word) { return __atomic_load_n(word, __ATOMIC_ACQUIRE); }

void cairn_support_wakeword_wait(uint32_t *word, uint32_t seen)
{
#ifdef __linux__
    /* EAGAIN (the word changed), EINTR and spurious returns all go back to
     * the caller's loop. */
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
#else
    if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == seen) {
        struct timespec pause = {0, 50000};
        nanosleep(&pause, NULL);
    }
#endif
}

void cairn_support_wakeword_advance(uint32_t *word)
{
    __atomic_add_fetch(word, 1, __ATOMIC_RELEASE);
#ifdef __linux__
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#endif
}
