/* Allocating a log file's space ahead of its writes (cairn_support.h),
 * in C because Swift's Glibc module does not declare fallocate (a GNU
 * extension). */
#define _GNU_SOURCE
#include "cairn_support.h"

#include <fcntl.h>

int cairn_support_preallocate(int fd, int64_t length)
{
#ifdef __linux__
    /* O_APPEND goes first: a file extended with zeros that still appended
     * would put the next record after them. If the allocation then fails,
     * writes at the file's end land where they did before. */
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    if ((flags & O_APPEND) && fcntl(fd, F_SETFL, flags & ~O_APPEND) != 0) return -1;
    return fallocate(fd, 0, 0, (off_t)length);
#else
    (void)fd;
    (void)length;
    return -1;
#endif
}
