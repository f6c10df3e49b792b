/* SPDX-License-Identifier: Apache-2.0 */
/*
 * newlib system-call stubs for a bare-metal image without an OS.
 *
 * There is deliberately no heap: the core never allocates and the firmware must not
 * either. _sbrk therefore always fails (malloc returns NULL) and counts the attempt, so
 * the self-test can prove that nothing - not even a hidden libc path such as stdio
 * buffering - asked for memory.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fw_board.h"
#include "fw_board_an385.h"

#undef errno
extern int errno;

void *_sbrk(ptrdiff_t incr);
int _write(int fd, const char *buf, int len);
int _read(int fd, char *buf, int len);
int _close(int fd);
int _lseek(int fd, int off, int whence);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
int _getpid(void);
int _kill(int pid, int sig);
_Noreturn void _exit(int status);

static uint32_t fw_sbrk_count;

uint32_t fw_an385_sbrk_calls(void)
{
    return fw_sbrk_count;
}

uint32_t fw_heap_requests(void)
{
    return fw_sbrk_count;
}

void *_sbrk(ptrdiff_t incr)
{
    (void)incr;
    fw_sbrk_count++;
    errno = ENOMEM;
    return (void *)-1;
}

int _write(int fd, const char *buf, int len)
{
    int ret = -1;

    if ((fd == 1 || fd == 2) && buf != NULL && len >= 0) {
        fw_console_write(buf, (size_t)len);
        ret = len;
    } else {
        errno = EBADF;
    }
    return ret;
}

int _read(int fd, char *buf, int len)
{
    (void)fd;
    (void)buf;
    (void)len;
    errno = EBADF;
    return -1;
}

int _close(int fd)
{
    (void)fd;
    errno = EBADF;
    return -1;
}

int _lseek(int fd, int off, int whence)
{
    (void)fd;
    (void)off;
    (void)whence;
    errno = ESPIPE;
    return -1;
}

int _fstat(int fd, struct stat *st)
{
    (void)fd;
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    return (fd >= 0 && fd <= 2) ? 1 : 0;
}

int _getpid(void)
{
    return 1;
}

int _kill(int pid, int sig)
{
    (void)pid;
    (void)sig;
    errno = EINVAL;
    return -1;
}

_Noreturn void _exit(int status)
{
    fw_exit(status);
}
