/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file fw_selftest.h
 * @brief On-target self-test of the easd core: runs the real core code on the board and
 *        prints one line per check plus "SELFTEST: N passed, M failed".
 */
#ifndef FW_SELFTEST_H
#define FW_SELFTEST_H

#ifdef __cplusplus
extern "C" {
#endif

/** Flag for fw_selftest_run(): add one check that always fails (proves the QEMU test
 *  notices failures; selected with `-append --force-fail`). */
#define FW_SELFTEST_FORCE_FAIL 0x1u

/**
 * @brief Run every check whose module is in this build.
 * @param flags FW_SELFTEST_* flags, normally 0.
 * @return the number of failed checks (0 = all passed).
 */
unsigned fw_selftest_run(unsigned flags);

#ifdef __cplusplus
}
#endif

#endif /* FW_SELFTEST_H */
