/* SPDX-License-Identifier: Apache-2.0 */
/* Calendar invariants for the fuzz harnesses (see fuzz_cal_check.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "fuzz_cal_check.h"

typedef struct occ_list {
    const eas_cal_item_t *item;
    bool recurring;
    uint32_t occurrences; /* the resolved rule's count, 0 = unbounded */
    int64_t from;         /* window as eas_cal_expand() clamps it */
    int64_t to;
    size_t n;
    int64_t last_regular_index;
    uint8_t ex_seen[CONFIG_EAS_CAL_MAX_EXCEPTIONS];
    eas_cal_occurrence_t occ[CONFIG_EAS_CAL_MAX_OCCURRENCES];
} occ_list_t;

static occ_list_t g_whole, g_lo, g_hi;

static void str_ok(const char *s, size_t cap)
{
    if (memchr(s, 0, cap) == NULL) {
        abort(); /* not NUL-terminated inside its buffer */
    }
}

void fuzz_cal_check_item(const eas_cal_item_t *item)
{
    if (item->exception_count > item->exception_cap || item->attendee_count > item->attendee_cap) {
        abort();
    }
    str_ok(item->subject, sizeof(item->subject));
    str_ok(item->location, sizeof(item->location));
    str_ok(item->uid, sizeof(item->uid));
    str_ok(item->organizer_name, sizeof(item->organizer_name));
    str_ok(item->organizer_email, sizeof(item->organizer_email));
    for (uint16_t i = 0; i < item->exception_count; i++) {
        str_ok(item->exceptions[i].subject, sizeof(item->exceptions[i].subject));
        str_ok(item->exceptions[i].location, sizeof(item->exceptions[i].location));
    }
    for (uint16_t i = 0; i < item->attendee_count; i++) {
        str_ok(item->attendees[i].email, sizeof(item->attendees[i].email));
        str_ok(item->attendees[i].name, sizeof(item->attendees[i].name));
    }
}

static int on_occ(void *user, const eas_cal_occurrence_t *o)
{
    occ_list_t *l = user;
    const eas_cal_item_t *item = l->item;

    if (l->n >= CONFIG_EAS_CAL_MAX_OCCURRENCES) {
        abort(); /* more than the documented per-call cap */
    }
    if (o->start < l->from || o->start >= l->to) {
        abort(); /* outside the window */
    }
    if (l->n > 0 && o->start < l->occ[l->n - 1].start) {
        abort(); /* not in ascending start order */
    }
    if (((o->flags & EAS_CAL_OCC_RECURRING) != 0) != l->recurring) {
        abort();
    }
    if (o->exception < 0) {
        if ((o->flags & EAS_CAL_OCC_EXCEPTION) != 0 || o->original_start != o->start ||
            o->end < o->start || ((o->flags & EAS_CAL_OCC_ALL_DAY) != 0) != (item->all_day != 0)) {
            abort();
        }
        if ((int64_t)o->index <= l->last_regular_index) {
            abort(); /* series positions go forward */
        }
        l->last_regular_index = o->index;
        if (!l->recurring && (o->index != 0 || o->start != item->start || l->n != 0)) {
            abort(); /* a single item has one occurrence, at its start */
        }
    } else {
        const eas_cal_exception_t *ex;
        if (!l->recurring || o->exception >= item->exception_count ||
            (o->flags & EAS_CAL_OCC_EXCEPTION) == 0 || l->ex_seen[o->exception]) {
            abort();
        }
        ex = &item->exceptions[o->exception];
        if (ex->deleted != 0) {
            abort(); /* a deleted occurrence was shown */
        }
        if ((ex->present & EAS_CAL_F_START) != 0 && o->start != ex->start) {
            abort();
        }
        if ((ex->present & EAS_CAL_F_END) != 0 && o->end != ex->end) {
            abort();
        }
        l->ex_seen[o->exception] = 1;
    }
    if (l->recurring && l->occurrences != 0 && o->index >= l->occurrences) {
        abort(); /* beyond Occurrences */
    }
    l->occ[l->n++] = *o;
    return EAS_OK;
}

static int run(occ_list_t *l, const eas_cal_item_t *item, const eas_cal_rule_t *rule, int64_t from,
               int64_t to)
{
    l->item = item;
    l->recurring = (item->present & EAS_CAL_F_RECURRENCE) != 0;
    l->occurrences = rule->occurrences;
    l->from = from < EAS_CAL_TIME_MIN ? EAS_CAL_TIME_MIN : from;
    l->to = to > EAS_CAL_TIME_MAX + 1 ? EAS_CAL_TIME_MAX + 1 : to;
    l->n = 0;
    l->last_regular_index = -1;
    memset(l->ex_seen, 0, sizeof(l->ex_seen));
    return eas_cal_expand(item, from, to, on_occ, l);
}

static bool same(const eas_cal_occurrence_t *x, const eas_cal_occurrence_t *y)
{
    return x->start == y->start && x->end == y->end && x->original_start == y->original_start &&
           x->index == y->index && x->exception == y->exception && x->flags == y->flags;
}

int fuzz_cal_check_expand(const eas_cal_item_t *item, int64_t a, int64_t m, int64_t b)
{
    eas_cal_rule_t rule;
    int check = eas_cal_item_check(item);
    int rc;
    int rc_lo;
    int rc_hi;

    /* Sort the three instants: a <= m <= b. */
    if (a > b) {
        int64_t t = a;
        a = b;
        b = t;
    }
    m = m < a ? a : (m > b ? b : m);
    memset(&rule, 0, sizeof(rule));
    if (check == EAS_OK && (item->present & EAS_CAL_F_RECURRENCE) != 0 &&
        eas_cal_rule_resolve(item, &rule) != EAS_OK) {
        abort(); /* item_check accepted a recurrence the resolver refuses */
    }
    rc = run(&g_whole, item, &rule, a, b);
    if (check != EAS_OK && getenv("FUZZ_CAL_VERBOSE") != NULL) {
        fprintf(stderr, "item refused: %d\n", check);
    }
    if (check != EAS_OK) {
        if (rc != check || g_whole.n != 0) {
            abort(); /* expand must refuse exactly what check refuses, before any callback */
        }
        return rc;
    }
    if (rc != EAS_OK && rc != EAS_ERR_LIMIT && rc != EAS_ERR_CAL_ITERATIONS) {
        abort();
    }
    if (rc == EAS_ERR_LIMIT && g_whole.n != CONFIG_EAS_CAL_MAX_OCCURRENCES) {
        abort(); /* LIMIT only after the cap (exceptions over the cap are refused by check) */
    }
    rc_lo = run(&g_lo, item, &rule, a, m);
    rc_hi = run(&g_hi, item, &rule, m, b);
    if (getenv("FUZZ_CAL_VERBOSE") != NULL) {
        fprintf(
            stderr, "expand [%lld, %lld) split %lld: rc %d/%d/%d, %zu = %zu + %zu occurrences\n",
            (long long)a, (long long)b, (long long)m, rc, rc_lo, rc_hi, g_whole.n, g_lo.n, g_hi.n);
    }
    if (rc == EAS_OK && rc_lo == EAS_OK && rc_hi == EAS_OK) {
        if (g_lo.n + g_hi.n != g_whole.n) {
            abort(); /* the split windows disagree with the whole window */
        }
        for (size_t i = 0; i < g_lo.n; i++) {
            if (!same(&g_lo.occ[i], &g_whole.occ[i])) {
                abort();
            }
        }
        for (size_t i = 0; i < g_hi.n; i++) {
            if (!same(&g_hi.occ[i], &g_whole.occ[g_lo.n + i])) {
                abort();
            }
        }
    }
    return rc;
}
