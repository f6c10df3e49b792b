/* SPDX-License-Identifier: Apache-2.0 */
/* lwIP's compiler/platform header for the bare-metal Cortex-M port (arm-none-eabi-gcc). */
#ifndef EASD_LWIP_ARCH_CC_H
#define EASD_LWIP_ARCH_CC_H

#include <stdint.h>

/* Diagnostics go to the board console; an assertion stops the image (never continues on a
   corrupt stack state). */
void mps2_lwip_assert(const char *msg, const char *file, int line);
#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#define LWIP_PLATFORM_ASSERT(x) mps2_lwip_assert((x), __FILE__, __LINE__)

/* No errno.h users in a NO_SYS build; lwIP brings its own values. */
#define LWIP_NO_UNISTD_H 1
#define LWIP_ERRNO_STDINCLUDE 1

/* Random numbers for TCP initial sequence numbers and local ports: the board's RNG hook. */
uint32_t mps2_lwip_rand(void);
#define LWIP_RAND() mps2_lwip_rand()

#endif /* EASD_LWIP_ARCH_CC_H */
