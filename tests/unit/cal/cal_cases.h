/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recurrence case table shared by test_cal (expectations) and test_cal_libical (the
 * same cases cross-checked against libical). Each case is fed through the item parser as
 * synthetic decoder events, exactly as a Sync response would arrive.
 */
#ifndef CAL_CASES_H
#define CAL_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "eas/eas_cal.h"

enum { CAL_TZ_UTC = 0, CAL_TZ_BERLIN, CAL_TZ_NEW_YORK, CAL_TZ_ZERO_BLOB };

typedef struct cal_case {
    const char *name;
    /* How the expectation was derived (hand derivation under Outlook rules, documented). */
    const char *why;
    int tz;
    const char *start; /* EAS compact UTC */
    const char *end;
    int all_day;
    /* Recurrence children as "Name=value ..." (MS-ASCAL names); NULL: not recurring. */
    const char *recur;
    /* Exceptions: "D<orig>" deleted, "M<orig>=<start>/<end>" modified, space separated. */
    const char *exceptions;
    const char *from; /* window, EAS compact UTC */
    const char *to;
    /* Expected occurrences: "START[/END][*]" (END default: start + item span; * = exception). */
    const char *expect;
    /* RFC 5545 RRULE that means the same as the Outlook pattern (NULL: none). */
    const char *rrule;
    /* The literal RFC 5545 translation, which RFC semantics evaluate differently. */
    const char *naive_rrule;
} cal_case_t;

extern const cal_case_t cal_cases[];
extern const size_t cal_case_count;

/** Hand-built 172-byte TimeZone blobs (independent of eas_cal_tz_encode). */
void cal_case_blob(int tz, uint8_t blob[EAS_CAL_TZ_BLOB_LEN]);

/** Parse "20260105T090000Z"; aborts the test on a typo. */
int64_t cal_t(const char *compact);

/**
 * Feed the case to a fresh item through eas_cal_item_parser_* as decoder events (text in
 * pieces of 1..3 bytes). Returns the parser's first error or EAS_OK.
 */
int cal_case_build(const cal_case_t *c, eas_cal_item_t *item, eas_cal_exception_t *ex,
                   uint16_t ex_cap);

/** Occurrence list collected by cal_collect(). */
typedef struct cal_occ_list {
    size_t n;
    eas_cal_occurrence_t occ[512];
} cal_occ_list_t;

int cal_collect(void *user, const eas_cal_occurrence_t *occ);

#endif
