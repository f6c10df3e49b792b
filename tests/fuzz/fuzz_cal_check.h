/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Invariants shared by the calendar harnesses: whatever an item holds, its text fields stay
 * inside their buffers, eas_cal_expand() agrees with eas_cal_item_check(), every occurrence
 * lies in the window in ascending order, and expanding [a, b) in one call yields exactly
 * the occurrences of [a, m) followed by those of [m, b) (the arithmetic skip-ahead to m must
 * land where walking from a does).
 */
#ifndef FUZZ_CAL_CHECK_H
#define FUZZ_CAL_CHECK_H

#include <stdint.h>

#include "eas/eas_cal.h"

/** Check the collected item's own consistency (counts, NUL-terminated strings). */
void fuzz_cal_check_item(const eas_cal_item_t *item);

/**
 * Expand @p item over [a, b) and over [a, m) + [m, b) (a <= m <= b after clamping) and
 * abort() on any broken invariant. Returns eas_cal_expand()'s result for [a, b).
 */
int fuzz_cal_check_expand(const eas_cal_item_t *item, int64_t a, int64_t m, int64_t b);

#endif
