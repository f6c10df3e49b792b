/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mps2-an385 image: bring the board up, run the on-target self-test of the core and exit
 * with its verdict (QEMU's exit status via semihosting). The sync application of roadmap
 * step 5 (lwIP NO_SYS + mbedtls driving eas_step) will replace the self-test call here;
 * the board files and the HAL stay.
 */
#include <stdio.h>
#include <string.h>

#include "fw_board.h"
#include "fw_selftest.h"

#ifndef FW_PRESET_NAME
#define FW_PRESET_NAME "unknown"
#endif

int main(void)
{
    char line[96];
    char args[256]; /* QEMU passes the image path first */
    unsigned flags = 0;
    unsigned failed;

    fw_board_init();
    if (fw_board_cmdline(args, sizeof(args)) == 0 && strstr(args, "--force-fail") != NULL) {
        flags |= FW_SELFTEST_FORCE_FAIL;
    }
    (void)snprintf(line, sizeof(line), "easd firmware on %s (%s), preset %s\n", fw_board_name(),
                   fw_board_cpu(), FW_PRESET_NAME);
    fw_console_puts(line);
    failed = fw_selftest_run(flags);
    (void)snprintf(line, sizeof(line), "RAM: static %u B, stack %u B reserved, heap 0 B\n",
                   (unsigned)fw_static_ram(), (unsigned)fw_stack_size());
    fw_console_puts(line);
    return (failed == 0u) ? 0 : 1;
}
