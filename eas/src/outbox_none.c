/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outbox of a read-only build (CONFIG_EAS_OUTBOX off): always empty. The engine keeps
 * its outbox code paths; they find no entry, so nothing is sent, and the queueing calls
 * answer EAS_ERR_UNSUPPORTED before they get here (cmd_outbox.c). Records a build with the
 * outbox persisted are neither read nor removed.
 */
#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "eas_state.h"

#if !CONFIG_EAS_OUTBOX

int eas_outbox_load(eas_outbox_t *ob, eas_outbox_slot_t *slots, size_t cap,
                    const eas_state_ns_t *ns, eas_arena_t *arena, size_t *corrupt,
                    eas_outbox_lost_fn lost, void *lost_user)
{
    (void)cap;
    (void)arena;
    (void)lost;
    (void)lost_user;
    ob->slots = slots;
    ob->cap = 0; /* no slot: every scan of the outbox ends at once */
    ob->ns = ns;
    ob->next_seq = 1;
    if (corrupt) {
        *corrupt = 0;
    }
    return EAS_OK;
}

int eas_outbox_put(eas_outbox_t *ob, eas_arena_t *arena, const eas_outbox_entry_t *e,
                   uint16_t folder_index, const eas_field_t *fields, size_t n, uint32_t *id)
{
    (void)ob;
    (void)arena;
    (void)e;
    (void)folder_index;
    (void)fields;
    (void)n;
    (void)id;
    return EAS_ERR_UNSUPPORTED;
}

int eas_outbox_read(const eas_outbox_t *ob, size_t slot, eas_arena_t *arena, eas_outbox_entry_t *e)
{
    (void)ob;
    (void)slot;
    (void)arena;
    (void)e;
    return EAS_ERR_NOT_FOUND;
}

int eas_outbox_remove(eas_outbox_t *ob, size_t slot)
{
    (void)ob;
    (void)slot;
    return EAS_ERR_NOT_FOUND;
}

int eas_outbox_set_attempts(eas_outbox_t *ob, size_t slot, eas_arena_t *arena, uint16_t attempts)
{
    (void)ob;
    (void)slot;
    (void)arena;
    (void)attempts;
    return EAS_ERR_NOT_FOUND;
}

int eas_outbox_find(const eas_outbox_t *ob, uint32_t id)
{
    (void)ob;
    (void)id;
    return -1;
}

size_t eas_outbox_count(const eas_outbox_t *ob)
{
    (void)ob;
    return 0;
}

int eas_outbox_field_next(const uint8_t *buf, size_t len, size_t *pos, eas_field_t *f)
{
    (void)buf;
    (void)len;
    (void)pos;
    (void)f;
    return 0;
}

#endif /* !CONFIG_EAS_OUTBOX */
