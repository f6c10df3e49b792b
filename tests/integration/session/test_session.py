#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Session tests: the engine (through the eas-sync driver and the Linux port) against
tools/eas-testserver, one test per behaviour. Each test recreates a server condition with the
server's scenario faults or control API, runs eas-sync, and asserts on eas-sync's JSON lines
and on the server's request log and counters.

    test_session.py --sync build/x/tools/eas-sync [--agenda build/x/tools/eas-agenda]
                    [--backoff-min-ms 2000] TEST [TEST...]      (or "all", or --list)

EASD_SEED=N repeats the random choices of a run (printed at the start); EASD_KEEP_TMP=1 keeps
the temporary directory (server log, every eas-sync output).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sessionlib import (DEMO, SELECTED_TYPES, Client, Failure, Server, View,  # noqa: E402
                        check, cleanup, field, new_tmp, rng_from_env, sync_keys,
                        sync_requests)

OPT = None
TESTS = {}


def test(fn):
    TESTS[fn.__name__[len("t_"):]] = fn
    return fn


# ---- shared assertions ----------------------------------------------------------------

def assert_complete(run, what="eas-sync"):
    s = run.summary()
    check(run.rc == 0 and s.get("complete") is True,
          "%s did not complete: exit %s, summary %s, stderr %s", what, run.rc, s,
          run.stderr[-2000:])


def assert_view_matches_server(view, srv, user="testuser", subjects=True):
    """Every server item of the selected classes is in the view exactly once, nothing
    else is, and (optionally) the Subject the view holds is the server's current one."""
    oracle = srv.server_items(user)
    have = set(view.items)
    want = set(oracle)
    missing = sorted(want - have)
    extra = sorted(have - want)
    check(not missing, "%d server items never delivered, e.g. %s", len(missing), missing[:5])
    check(not extra, "%d items in the view that the server does not have, e.g. %s",
          len(extra), extra[:5])
    if subjects:
        wrong = []
        for key, it in oracle.items():
            subj = it.get("data", {}).get("Subject")
            if subj is not None and field(view.items[key], "Subject") != subj:
                wrong.append((key, field(view.items[key], "Subject"), subj))
        check(not wrong, "%d items hold another Subject than the server's, e.g. %s", len(wrong),
              wrong[:3])
    return len(want)


def assert_one_device(reqs, device):
    ids = {r.get("device") for r in reqs if r.get("command") != "OPTIONS" or r.get("device")}
    ids.discard(None)
    check(ids == {device}, "DeviceId changed during the session: %s", sorted(ids))


# Intervals are measured on the server's CLOCK_MONOTONIC arrival times (the clock eas-sync
# schedules with; wall-clock time may be slewed). The engine's clock is in whole
# milliseconds, so a deadline can fire up to 1 ms before the exact instant.
CLOCK_RESOLUTION_S = 0.001


def gap_s(later, earlier):
    return later["mono"] - earlier["mono"] + CLOCK_RESOLUTION_S


_POLICY_KEY_IN_BODY = re.compile(r"<PolicyKey>[^<]*</PolicyKey>")
REPROVISION = (142, 143, 144)


def request_signature(r):
    """Two requests are "the same" when command and body agree, whatever policy key they
    carry (header or Provision body): every re-provisioning round hands out a new key, which
    must not make a loop look like different requests."""
    body = r.get("body_xml") or r.get("body_text") or ""
    return (r.get("command"), _POLICY_KEY_IN_BODY.sub("<PolicyKey/>", body))


def request_failed(r):
    """Failed as the client saw it: any injected fault except a pure delay (garbage,
    truncated, reset, HTML with 200, a repeated SyncKey: the server logs those as 200/1),
    or an HTTP / EAS status that is not success."""
    if any(t != "delay" for t in r.get("fault_types", [])):
        return True
    return r.get("status") != 200 or r.get("eas_status") not in (None, 1, 2)


def is_reprovision_refusal(r):
    return r.get("status") == 449 or r.get("eas_status") in REPROVISION


def assert_no_tight_repeat(reqs, min_gap_s):
    """[S 2.9, 2.2] the same failing request is never repeated faster than the back-off.
    One exception, [S 2.12]: the request refused for its policy key is replayed right after
    a successful re-provisioning - once. A second immediate replay is a loop."""
    last_fail = {}
    replayed = set()
    provisioned_since = {}
    for r in reqs:
        sig = request_signature(r)
        if r.get("command") == "Provision" and not request_failed(r):
            for k in provisioned_since:
                provisioned_since[k] = True
        if sig in last_fail:
            gap = gap_s(r, last_fail[sig])
            if gap >= min_gap_s:
                replayed.discard(sig)  # a backed-off retry starts a new round
            else:
                allowed = (is_reprovision_refusal(last_fail[sig]) and
                           provisioned_since.get(sig) and sig not in replayed)
                check(allowed,
                      "identical request %s (seq %s) resent %.3f s after it failed (seq %s, "
                      "back-off minimum %.3f s)", r.get("command"), r.get("seq"), gap,
                      last_fail[sig].get("seq"), min_gap_s)
                replayed.add(sig)
        if request_failed(r):
            last_fail[sig] = r
            provisioned_since[sig] = False
        else:
            last_fail.pop(sig, None)
            provisioned_since.pop(sig, None)
            replayed.discard(sig)


# ---- first sync ------------------------------------------------------------------------

@test
def t_first_sync_demo(tmp):
    """Full first sync of the demo mailbox: every folder, every item of the selected classes
    exactly once with the server's Subject; OPTIONS -> Provision x2 -> FolderSync -> Sync."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url)
        run = c.run()
        assert_complete(run)
        view = View().apply(run.events)
        n = assert_view_matches_server(view, srv)
        dup = {k: v for k, v in view.adds.items() if v != 1}
        check(not dup, "items added more than once in one clean run: %s", dup)
        sf = srv.server_folders()
        check(set(view.folders) == set(sf), "folders %s != server %s", sorted(view.folders),
              sorted(sf))
        for fid, f in sf.items():
            check(view.folders[fid].get("name") == f["name"], "folder %s name %r != %r", fid,
                  view.folders[fid].get("name"), f["name"])
        reqs = srv.requests()
        cmds = [r["command"] for r in reqs]
        check(cmds[:5] == ["OPTIONS", "Provision", "Provision", "Settings", "FolderSync"],
              "session start %s", cmds[:6])
        check(set(cmds[5:]) == {"Sync"}, "unexpected commands in the first sync: %s",
              sorted(set(cmds[5:])))
        # The device described itself once, with the values it was configured with.
        dev = srv.state(c.device)["devices"]["testuser"][c.device]
        check(dev["info_settings"] == 1 and dev["info"].get("Model") == "easd" and
              dev["info"].get("UserAgent", "").startswith("easd/"),
              "device information on the server: %s (%d Settings)", dev["info"],
              dev["info_settings"])
        # Each folder starts from SyncKey 0 exactly once.
        zero = [cid for r in sync_requests(reqs) for cid, k in sync_keys(r) if k == "0"]
        check(len(zero) == len(set(zero)), "a folder was started from SyncKey 0 twice: %s",
              zero)
        s = run.summary()
        check(s.get("adds") == n, "summary adds %s != %d items", s.get("adds"), n)
        assert_one_device(reqs, c.device)
        print("  %d folders, %d items, %d requests" % (len(sf), n, len(reqs)))
    finally:
        srv.close()


@test
def t_first_sync_large(tmp):
    """Generated mailbox (--generate 2000: >8,000 items, every class): every server item
    present exactly once, paged with WindowSize/MoreAvailable, no key ever reused."""
    srv = Server(tmp, mailbox=None, generate=2000)
    try:
        c = Client(tmp, OPT.sync, srv.url)
        run = c.run(timeout_s=600)
        assert_complete(run)
        view = View().apply(run.events)
        n = assert_view_matches_server(view, srv, subjects=True)
        check(n >= 2000, "generated mailbox too small: %d", n)
        dup = {k: v for k, v in view.adds.items() if v != 1}
        check(not dup, "%d items added more than once, e.g. %s", len(dup), list(dup)[:3])
        syncs = sync_requests(srv.requests())
        more = sum(1 for r in syncs if "<MoreAvailable" in (r.get("response_xml") or ""))
        check(more > 0, "no MoreAvailable paging happened")
        # A key is sent at most once per folder in a clean run (no repeated request).
        seen = set()
        for r in syncs:
            for ck in sync_keys(r):
                check(ck not in seen, "SyncKey %s sent twice for folder %s", ck[1], ck[0])
                seen.add(ck)
        print("  %d items in %d Sync requests (%d with MoreAvailable), %.1f s" % (
            n, len(syncs), more, run.secs))
    finally:
        srv.close()


# ---- incremental ------------------------------------------------------------------------

@test
def t_incremental(tmp):
    """Second run with the same --state after server-side changes (new mail, changed and
    deleted items, a moved item): only the differences are delivered, no folder restarts
    from SyncKey 0, and the view equals the server's mailbox again."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url)
        view = View().apply(c.run().events)
        res = srv.changes([
            {"op": "new_mail", "subject": "incremental: new mail"},
            {"op": "change_item", "server_id": "7:2", "set": {"FileAs": "Changed, Contact",
                                                             "FirstName": "Changed"}},
            {"op": "change_item", "server_id": "6:9", "set": {"Subject": "UTC call (renamed)"}},
            {"op": "delete_item", "server_id": "8:1"},
            {"op": "move_item", "server_id": "1:1", "to_folder": "10"},
            {"op": "add_item", "folder": "8", "data": {"Subject": "incremental: new task",
                                                      "Complete": 0}},
        ])
        srv.reset_log()
        run = c.run()
        assert_complete(run, "incremental run")
        view.apply(run.events)
        assert_view_matches_server(view, srv)
        adds = {(e["folder"], e["server_id"]) for e in run.of("item_add")}
        changes = {(e["folder"], e["server_id"]) for e in run.of("item_change")}
        deletes = {(e["folder"], e["server_id"]) for e in run.of("item_delete")}
        moved = res[4]
        exp_adds = {(res[0]["folder"], res[0]["server_id"]), (moved["folder"],
                                                              moved["server_id"]),
                    (res[5]["folder"], res[5]["server_id"])}
        check(adds == exp_adds, "adds %s != expected %s", sorted(adds), sorted(exp_adds))
        check(changes == {("7", "7:2"), ("6", "6:9")}, "changes %s", sorted(changes))
        check(deletes == {("8", "8:1"), ("1", "1:1")}, "deletes %s", sorted(deletes))
        zero = [cid for r in sync_requests(srv.requests()) for cid, k in sync_keys(r)
                if k == "0"]
        check(not zero, "incremental run restarted folders from SyncKey 0: %s", zero)
        check(not any(r["command"] == "Provision" for r in srv.requests()),
              "incremental run provisioned again")
        # Third run: nothing changed, nothing delivered.
        run3 = c.run()
        assert_complete(run3, "third run")
        items3 = [e for e in run3.events if e.get("event", "").startswith("item_")]
        check(not items3, "unchanged mailbox delivered %d item events", len(items3))
    finally:
        srv.close()


@test
def t_incremental_folders(tmp):
    """Folder hierarchy changes between runs (FolderSync Add/Update/Delete): a new folder
    is synced, a deleted one disappears with its items, a renamed one keeps its items."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url)
        view = View().apply(c.run().events)
        res = srv.changes([{"op": "add_folder", "name": "New projects", "type": 12,
                            "parent": "0"},
                           {"op": "delete_folder", "folder": "11"},
                           {"op": "rename_folder", "folder": "10", "name": "Projects (old)"}])
        new_id = res[0].get("folder") or res[0].get("id")
        srv.changes([{"op": "new_mail", "folder": new_id, "subject": "in the new folder"}])
        run = c.run()
        assert_complete(run, "incremental run")
        view.apply(run.events)
        sf = srv.server_folders()
        check(set(view.folders) == set(sf), "folders %s != server %s", sorted(view.folders),
              sorted(sf))
        check(view.folders["10"].get("name") == "Projects (old)", "rename not applied: %s",
              view.folders["10"])
        assert_view_matches_server(view, srv)
    finally:
        srv.close()


# ---- [S 2.12] re-provisioning ------------------------------------------------------------

def _reprovision(tmp, version, expect, fault=None):
    srv = Server(tmp, "--versions", version)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="prov" + version.replace(".", ""))
        view = View().apply(c.run().events)
        first_key = srv.state(c.device)["devices"]["testuser"][c.device]["policy_key"]
        srv.changes([{"op": "new_mail", "subject": "after the policy change"}])
        # The server forgets the device's policy in the middle of the next sync.
        srv.faults(fault or {"command": "Sync", "nth": 2, "type": "invalidate_policy"})
        srv.reset_log()
        run = c.run()
        assert_complete(run, "run after the policy was invalidated")
        view.apply(run.events)
        assert_view_matches_server(view, srv)
        reqs = srv.requests()
        assert_one_device(reqs, c.device)
        idx = [i for i, r in enumerate(reqs) if r["command"] == "Sync"]
        failed = [i for i in idx if (reqs[i]["status"] == 449 if expect == 449 else
                                     reqs[i].get("eas_status") in (142, 143, 144))]
        check(failed, "the server never refused a Sync (%s)", [(r["command"], r["status"],
                                                               r.get("eas_status"))
                                                              for r in reqs])
        f = failed[0]
        prov = [i for i in range(f + 1, len(reqs)) if reqs[i]["command"] == "Provision"]
        check(len(prov) >= 2 and prov[0] == f + 1 and prov[1] == f + 2,
              "after the refusal: %s", [(r["command"], r["status"]) for r in reqs[f:f + 5]])
        final_key = srv.state(c.device)["devices"]["testuser"][c.device]["policy_key"]
        check(final_key and final_key != first_key, "no new final policy key")
        replay = reqs[prov[1] + 1]
        check(replay["command"] == "Sync", "the failed request was not replayed next: %s",
              replay["command"])
        check(sync_keys(replay) == sync_keys(reqs[f]),
              "the replay is not the failed request: %s vs %s", sync_keys(replay),
              sync_keys(reqs[f]))
        check(replay.get("policy_key") == final_key, "replay sent policy key %s, final is %s",
              replay.get("policy_key"), final_key)
        check(replay["status"] == 200 and replay.get("eas_status") == 1,
              "replay failed: %s/%s", replay["status"], replay.get("eas_status"))
        print("  %s: refused with %s, re-provisioned, replayed with the final key" % (
            version, "HTTP 449" if expect == 449 else "Status %s" % reqs[f].get("eas_status")))
    finally:
        srv.close()


@test
def t_s2_12_reprovision_449(tmp):
    """[S 2.12] 12.1: HTTP 449 mid-sync -> two-phase Provision -> the failed Sync replayed
    with the final key; DeviceId unchanged."""
    _reprovision(tmp, "12.1", 449)


@test
def t_s2_12_reprovision_status(tmp):
    """[S 2.12] 14.1: Status 142/144 in the Sync body mid-sync -> Provision -> replay with
    the final key; DeviceId unchanged."""
    _reprovision(tmp, "14.1", 142)


@test
def t_s2_12_reprovision_status143(tmp):
    """[S 2.12] the field report's case: Status 143 (policy refresh) in the Sync body while
    the device's key is still valid -> Provision -> the same Sync replayed with the new key."""
    _reprovision(tmp, "14.1", 143, {"command": "Sync", "nth": 2, "type": "status",
                                     "status": 143, "level": "top"})


def _not_compliant(tmp, command, status):
    srv = Server(tmp, "--versions", "14.1")
    try:
        c = Client(tmp, OPT.sync, srv.url, device="nc%s%d" % (command[:4].lower(), status))
        if command != "Provision":
            c.run()
        srv.faults({"command": command, "type": "status", "status": status, "level": "top",
                    "times": 0})
        srv.reset_log()
        run = c.run(timeout_s=30)
        check(run.rc != 0, "eas-sync claims success although the device is refused")
        check(run.summary().get("state") == "policy-refused",
              "final state %s (expected the stopped state policy-refused)", run.summary())
        errs = [e for e in run.errors() if e.get("status") == status]
        check(errs and errs[0].get("error") == "EAS_ERR_POLICY",
              "Status %d not reported as EAS_ERR_POLICY: %s", status, run.errors())
        reqs = srv.requests()
        refused = [r for r in reqs if r.get("eas_status") == status]
        check(len(refused) == 1, "%d requests refused with %d: the client went on asking "
              "(%s)", len(refused), status, [(r["command"], r.get("eas_status")) for r in reqs])
        after = [r["command"] for r in reqs if refused and r["seq"] > refused[0]["seq"]]
        check(not after, "requests after the refusal: %s", after)
        check(run.secs < 25, "eas-sync ran into its own timeout (%.1f s)", run.secs)
        print("  Status %d on %s: stopped in policy-refused after %d request(s), %.1f s" % (
            status, command, len(reqs), run.secs))
    finally:
        srv.close()


@test
def t_s2_1_not_compliant_139_sync(tmp):
    """[S 2.1] Sync answered with Status 139 (device not fully provisionable): the stopped
    state policy-refused, one refused request, no re-provisioning loop."""
    _not_compliant(tmp, "Sync", 139)


@test
def t_s2_1_not_compliant_141_foldersync(tmp):
    """[S 2.1] FolderSync answered with Status 141 (legacy device on a strict policy): the
    stopped state policy-refused, no re-provisioning loop."""
    _not_compliant(tmp, "FolderSync", 141)


@test
def t_s2_1_not_compliant_139_provision(tmp):
    """[S 2.1] Provision itself answered with Status 139 on a first sync: policy-refused."""
    _not_compliant(tmp, "Provision", 139)


@test
def t_policy_ack_matches_what_is_enforced(tmp):
    """[S 2.1] eas-sync enforces nothing: a policy that asks for nothing is acknowledged as
    fully enforced (Status 1); once the server requires a device password the acknowledgement
    says partial (Status 2) and names the setting - never a claim to enforce it."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="pol")
        run = c.run()
        assert_complete(run)
        dec = [e for e in run.events if e.get("event") == "policy"]
        check(dec and dec[0]["decision"] == "enforce_all", "permissive policy: %s", dec)
        acks = [r for r in srv.requests(command="Provision")
                if "<PolicyKey>" in (r.get("body_xml") or "")]
        check(acks and "<Status>1</Status>" in acks[-1]["body_xml"],
              "acknowledgement of a permissive policy is not Status 1")

        srv.control("POST", "policy", {"set": {"DevicePasswordEnabled": 1}, "invalidate": True})
        srv.reset_log()
        run = c.run()
        dec = [e for e in run.events if e.get("event") == "policy"]
        check(dec and dec[0]["decision"] == "partial" and
              dec[0]["not_enforced"] == "DevicePasswordEnabled",
              "password policy acknowledged as: %s", dec)
        acks = [r for r in srv.requests(command="Provision")
                if "<PolicyKey>" in (r.get("body_xml") or "")]
        check(acks and "<Status>2</Status>" in acks[-1]["body_xml"],
              "acknowledgement of a password policy is not Status 2: %s",
              [a.get("body_xml") for a in acks])
    finally:
        srv.close()


@test
def t_s2_12_reprovision_loop_capped(tmp):
    """[S 2.12] a server that refuses the fresh key again and again: re-provisioning is capped
    and backed off (no Provision storm), eas-sync gives up instead of looping."""
    srv = Server(tmp, "--versions", "14.1")
    try:
        c = Client(tmp, OPT.sync, srv.url, device="provloop")
        c.run()
        srv.faults({"command": "Sync", "nth": 1, "times": 0, "type": "invalidate_policy"})
        srv.reset_log()
        run = c.run(timeout_s=20)
        check(run.rc != 0, "eas-sync claims success although every Sync was refused")
        # The cap itself, not eas-sync's own timeout, must end the first round of refusals.
        loop = [e for e in run.events
                if e.get("event") == "error" and e.get("error") == "EAS_ERR_PROVISION_LOOP"]
        check(loop, "no EAS_ERR_PROVISION_LOOP reported: %s", run.errors())
        reqs = srv.requests()
        prov = [r for r in reqs if r["command"] == "Provision"]
        # First cycle: from the first refusal to the first refused Sync that follows a Sync
        # (the request after the cap's back-off). Each round is one two-phase Provision.
        first = next(i for i, r in enumerate(reqs) if is_reprovision_refusal(r))
        end = next((i for i in range(first + 1, len(reqs))
                    if reqs[i]["command"] == "Sync" and reqs[i - 1]["command"] != "Provision"),
                   len(reqs))
        rounds = [r for r in reqs[first:end] if r["command"] == "Provision"]
        check(len(rounds) == 2 * OPT.provision_retries,
              "%d Provision requests before the cap (CONFIG_EAS_PROVISION_RETRIES %d rounds "
              "of 2)", len(rounds), OPT.provision_retries)
        check(end < len(reqs), "no request after the cap's back-off within 20 s")
        assert_no_tight_repeat(reqs, OPT.backoff_min_ms / 2000.0)
        print("  %d requests (%d Provision, %d before the cap) in %.1f s" % (
            len(reqs), len(prov), len(rounds), run.secs))
    finally:
        srv.close()


# ---- [S 2.13] per-folder recovery -------------------------------------------------------

@test
def t_s2_13_status3_one_folder(tmp):
    """[S 2.13] collection Status 3 on one folder: only that folder restarts with SyncKey 0,
    the other folders keep their keys, and no item that still exists is deleted."""
    _resync_one_folder(tmp, {"command": "Sync", "type": "status", "status": 3,
                             "collection": "6"}, "resync")


@test
def t_s2_13_status135_one_folder(tmp):
    """[S 2.13] Sync Status 135 (sync state already exists / invalid) on the request for
    folder 6: the same recovery as Status 3 - only folder 6 restarts from SyncKey 0, after
    the 135; nothing that still exists is deleted; the view equals the server."""
    _resync_one_folder(tmp, {"command": "Sync", "type": "status", "status": 135,
                             "level": "top", "collection": "6"}, "resync135")


def _resync_one_folder(tmp, fault, device):
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device=device)
        view = View().apply(c.run().events)
        srv.changes([{"op": "change_item", "server_id": "6:3",
                      "set": {"Subject": "changed before the reset"}},
                     {"op": "new_mail", "subject": "new mail during recovery"}])
        srv.faults(fault)
        srv.reset_log()
        run = c.run()
        assert_complete(run, "run with the status 3")
        syncs = sync_requests(srv.requests())
        hit = [i for i, r in enumerate(syncs) if r.get("faults")]
        check(hit, "the status 3 fault never fired")
        zero = [(i, cid) for i, r in enumerate(syncs) for cid, k in sync_keys(r) if k == "0"]
        check(zero and all(cid == "6" for _, cid in zero),
              "SyncKey 0 sent for %s (only folder 6 may restart)", zero)
        check(all(i > hit[0] for i, _ in zero), "SyncKey 0 before the status 3")
        deleted = [e["server_id"] for e in run.of("item_delete")]
        check(not deleted, "items disappeared during the recovery: %s", deleted)
        view.apply(run.events)
        assert_view_matches_server(view, srv)
        print("  folder 6 restarted (%d SyncKey 0 request), %d item events, no deletes" % (
            len(zero), len([e for e in run.events if e.get("event", "").startswith("item")])))
    finally:
        srv.close()


# ---- [S 1.9] response order ------------------------------------------------------------

@test
def t_s1_9_double_change(tmp):
    """[S 1.9] the same item changed twice in one response, the second change with the older
    DtStamp: both are delivered in response order and the second one wins."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="order1")
        view = View().apply(c.run().events)
        srv.changes([{"op": "change_item", "server_id": "6:9", "set": {"Subject": "UTC call"}}])
        srv.faults({"command": "Sync", "type": "double_change", "server_id": "6:9",
                    "collection": "6"})
        run = c.run()
        assert_complete(run)
        ch = [e for e in run.of("item_change") if e["server_id"] == "6:9"]
        subj = [field(e, "Subject") for e in ch]
        check(len(ch) >= 2, "expected two changes of 6:9, got %s", subj)
        check("[change 1]" in subj[-2] and "[change 2]" in subj[-1],
              "changes not in response order: %s", subj)
        view.apply(run.events)
        final = srv.server_items()[("6", "6:9")]["data"]["Subject"]
        check(field(view.items[("6", "6:9")], "Subject") == final,
              "view holds %r, server %r", field(view.items[("6", "6:9")], "Subject"), final)
        assert_view_matches_server(view, srv)
    finally:
        srv.close()


@test
def t_s1_9_stale_change(tmp):
    """[S 1.9] two consecutive responses change one item, the later with a DtStamp a week
    older: the later response wins (DtStamp is never used to order changes)."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="order2")
        view = View().apply(c.run().events)
        srv.faults({"command": "Sync", "type": "stale_change", "server_id": "6:2",
                    "collection": "6"})
        srv.changes([{"op": "change_item", "server_id": "6:1", "set": {"Subject": "nudge"}}])
        r2 = c.run()
        assert_complete(r2)
        view.apply(r2.events)
        srv.changes([{"op": "change_item", "server_id": "6:1", "set": {"Subject": "nudge 2"}}])
        r3 = c.run()
        assert_complete(r3)
        view.apply(r3.events)
        seq = [field(e, "Subject") for e in r2.of("item_change") + r3.of("item_change")
               if e["server_id"] == "6:2"]
        check(len(seq) >= 2 and "v1" in seq[0] and "v2" in seq[-1], "changes seen: %s", seq)
        got = field(view.items[("6", "6:2")], "Subject")
        check(got.endswith("[stale-test v2]"), "view holds %r, not the later change", got)
        assert_view_matches_server(view, srv)
    finally:
        srv.close()


@test
def t_s1_9_exception_older_dtstamp(tmp):
    """[S 1.9] the organizer moves one occurrence again (exception StartTime 10:00 -> 12:00)
    and the change arrives with a DtStamp older than the copy the device holds: the later
    response still wins - the expanded series shows the occurrence at 12:00, not at 10:00,
    and the rest of the series is unchanged."""
    srv = Server(tmp)
    try:
        exp = ["--expand-from", "20250101T000000Z", "--expand-days", "60"]
        c = Client(tmp, OPT.sync, srv.url, device="order3", extra=exp)
        first = c.run()
        view = View().apply(first.events)

        def occ(run):
            evs = [e for e in run.events if e.get("server_id") == "6:2" and
                   e.get("event") in ("item_add", "item_change")]
            return evs[-1].get("calendar", {}).get("occurrences", []) if evs else []
        before = occ(first)
        check("20250115T100000Z*" in before, "the moved occurrence before: %s", before)
        data = srv.server_items()[("6", "6:2")]["data"]
        ex = [dict(x) for x in data["Exceptions"]]
        for x in ex:
            if x["ExceptionStartTime"] == "20250115T080000Z":
                x["StartTime"], x["EndTime"] = "20250115T120000Z", "20250115T123000Z"
        srv.changes([{"op": "change_item", "server_id": "6:2",
                      "set": {"Exceptions": ex, "DtStamp": "20240101T000000Z"}}])
        run = c.run()
        assert_complete(run)
        view.apply(run.events)
        after = occ(run)
        check("20250115T120000Z*" in after and "20250115T100000Z*" not in after,
              "the later change with the older DtStamp did not win: %s", after)
        check([o for o in after if "20250115" not in o] ==
              [o for o in before if "20250115" not in o],
              "the rest of the series changed: %s -> %s", before, after)
        assert_view_matches_server(view, srv)
        print("  occurrence of Jan 15 now %s" % [o for o in after if "20250115" in o])
    finally:
        srv.close()


@test
def t_ri_folder_never_synced(tmp):
    """A Recipient Information cache folder (type 19, Horde lists one) holding items, with
    every class selected (--classes Calendar,Contacts,Email,Tasks,Notes): the folder is
    listed, but no Sync, GetItemEstimate or Ping ever names it and none of its items
    reaches the application; every other folder syncs completely."""
    srv = Server(tmp)
    try:
        ri = srv.changes([{"op": "add_folder", "name": "RI", "type": 19}])[0]
        ri = ri["folder"]
        srv.changes([{"op": "add_item", "folder": ri, "class": "Email",
                      "data": {"Subject": "ri entry %d" % i, "To": "x%d@example.test" % i}}
                     for i in range(3)])
        c = Client(tmp, OPT.sync, srv.url, device="riall",
                   extra=["--classes", "Calendar,Contacts,Email,Tasks,Notes", "--push", "3"])
        run = c.run(timeout_s=60)
        assert_complete(run)
        view = View().apply(run.events)
        check(ri in view.folders, "the RI folder %s was not listed: %s", ri,
              sorted(view.folders))
        named = [(r["seq"], r["command"]) for r in srv.requests()
                 if r["command"] in ("Sync", "GetItemEstimate", "Ping") and
                 re.search(r"<(\w+:)?(CollectionId|Id)>%s</" % re.escape(ri),
                           r.get("body_xml") or "")]
        check(not named, "requests naming the RI folder %s: %s", ri, named)
        leaked = [k for k in view.items if k[0] == ri]
        check(not leaked, "RI items reached the application: %s", leaked)
        # Every item of every syncable class (Notes too, as they are selected here).
        types = {fid: int(f["type"]) for fid, f in srv.server_folders().items()}
        want = {k for k in srv.server_items(selected_only=False)
                if types.get(k[0]) in SELECTED_TYPES | {10, 17}}
        check(set(view.items) == want, "view differs from the server: missing %s, extra %s",
              sorted(want - set(view.items))[:5], sorted(set(view.items) - want)[:5])
        print("  RI folder %s listed, never synced; %d other items" % (ri, len(view.items)))
    finally:
        srv.close()


# ---- [S 2.9, 2.2] back-off -----------------------------------------------------------------

# Where eas-sync's back-off starts after a busy answer (--backoff-busy-ms, i.e.
# eas_account_cfg_t::backoff_busy_ms): the build's CONFIG_EAS_BACKOFF_BUSY_MS (60 s) would
# make these tests take minutes of real time; the unit tests time the default on a
# simulated clock.
BUSY_MS = 4000


def _backoff(tmp, retry_after):
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="backoff%d" % (retry_after or 0),
                   extra=["--backoff-busy-ms", str(BUSY_MS)])
        rule = {"command": "Sync", "nth": 2, "times": 2, "type": "http", "status": 503}
        if retry_after:
            rule["retry_after"] = retry_after
        srv.faults(rule)
        run = c.run(timeout_s=120)
        assert_complete(run, "sync through two 503s")
        reqs = srv.requests()
        fails = [i for i, r in enumerate(reqs) if r["status"] == 503]
        check(len(fails) == 2, "expected two 503s, got %d", len(fails))
        # Retry-After: the server's own floor. Without it the server is busy and did not say
        # how long: the back-off starts at the busy start and doubles (jitter keeps each
        # delay in its upper half): at least BUSY/2, then at least BUSY.
        min_gaps = ([retry_after] * 2 if retry_after else [BUSY_MS / 2000.0, BUSY_MS / 1000.0])
        gaps = []
        for i, min_gap in zip(fails, min_gaps):
            nxt = reqs[i + 1]
            gap = gap_s(nxt, reqs[i])
            gaps.append(gap)
            check(gap >= min_gap, "request %d came %.3f s after a 503 (minimum %.3f s)",
                  nxt["seq"], gap, min_gap)
            check(sync_keys(nxt) == sync_keys(reqs[i]), "the retry is another request")
        assert_no_tight_repeat(reqs, min_gaps[0])
        view = View().apply(run.events)
        assert_view_matches_server(view, srv)
        print("  gaps after the 503s: %s s" % ", ".join("%.2f" % g for g in gaps))
    finally:
        srv.close()


@test
def t_s2_9_503_retry_after(tmp):
    """[S 2.9, 2.2] 503 with Retry-After: 3 -> no request within 3 s of the failure, then
    the same request again."""
    _backoff(tmp, 3)


@test
def t_s2_9_503_backoff(tmp):
    """[S 2.9, 2.2] 503 without Retry-After, twice -> the busy back-off (exponential from its
    own start, with jitter): the retries come >= BUSY/2, then >= BUSY after the 503s."""
    _backoff(tmp, None)


@test
def t_s2_9_malformed_backoff(tmp):
    """[S 2.9] malformed responses (garbage WBXML, HTML error page with HTTP 200, truncated
    body, reset connection) go through the same back-off and the sync still completes
    with every item exactly once."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="malformed")
        srv.faults([{"command": "Sync", "nth": 2, "type": "malformed", "mode": "garbage"},
                    {"command": "Sync", "nth": 4, "type": "malformed", "mode": "html"},
                    {"command": "Sync", "nth": 6, "type": "truncate", "bytes": 20},
                    {"command": "Sync", "nth": 8, "type": "reset", "after_bytes": 60}])
        run = c.run(timeout_s=180)
        assert_complete(run)
        reqs = srv.requests()
        min_gap = OPT.backoff_min_ms / 2000.0
        assert_no_tight_repeat(reqs, min_gap)
        # The next request after each fault, whatever it is, waits for the back-off.
        gaps = {}
        for i, r in enumerate(reqs[:-1]):
            kind = r.get("fault_malformed") or next(
                (t for t in r.get("fault_types", []) if t != "delay"), None)
            if kind:
                gaps[kind] = gap_s(reqs[i + 1], r)
        check(set(gaps) >= {"garbage", "html", "truncate", "reset"},
              "not every fault fired: %s", sorted(gaps))
        for kind, gap in sorted(gaps.items()):
            check(gap >= min_gap, "next request %.3f s after the %s answer (back-off minimum "
                  "%.3f s)", gap, kind, min_gap)
        print("  gaps after the faults: %s" % ", ".join("%s %.2f s" % kv
                                                        for kv in sorted(gaps.items())))
        view = View().apply(run.events)
        assert_view_matches_server(view, srv)
        check(len(run.errors()) >= 4, "the 4 faults were not reported: %s", run.errors())
    finally:
        srv.close()


@test
def t_repeat_synckey(tmp):
    """MoreAvailable with the request's own SyncKey, again and again: detected, no loop
    (a bounded number of Sync requests for that folder, never back to back)."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="repeat")
        srv.faults({"command": "Sync", "type": "repeat_synckey", "collection": "6", "times": 0})
        run = c.run(timeout_s=20)
        reqs = srv.requests()
        on6 = [r for r in sync_requests(reqs) if any(cid == "6" for cid, _ in sync_keys(r))]
        check(len(on6) <= 12, "%d Sync requests for the repeating folder in 20 s: a loop",
              len(on6))
        assert_no_tight_repeat(reqs, OPT.backoff_min_ms / 2000.0)
        check(any(e.get("event") == "error" and e.get("error") == "EAS_ERR_SYNC_LOOP"
                  for e in run.events), "the repeated key was not reported")
        # That folder's first sync never finished: the driver must not call the sync complete.
        summary = [e for e in run.events if e.get("event") == "summary"]
        check(summary and summary[-1].get("complete") is False and
              summary[-1].get("parked", 0) >= 1, "summary claims completion: %s", summary[-1:])
        check(run.rc != 0, "eas-sync exited 0 although folder 6 never finished syncing")
        # Every other folder still completed.
        view = View().apply(run.events)
        oracle = srv.server_items()
        others = {k for k in oracle if k[0] != "6"}
        check(others <= set(view.items), "other folders incomplete: %s",
              sorted(others - set(view.items))[:5])
        print("  %d Sync requests for folder 6, eas-sync exit %d" % (len(on6), run.rc))
    finally:
        srv.close()


# ---- hierarchy recovery, remote wipe -------------------------------------------------------

@test
def t_foldersync_status9(tmp):
    """FolderSync Status 9 (hierarchy key invalid) on a later run: the hierarchy restarts from
    key 0 and is re-matched by ServerId; no folder or item disappears and no folder's
    SyncKey is reset [S 2.13]."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="fs9")
        view = View().apply(c.run().events)
        srv.changes([{"op": "new_mail", "subject": "after the hierarchy reset"}])
        srv.faults({"command": "FolderSync", "type": "status", "status": 9})
        srv.reset_log()
        run = c.run()
        assert_complete(run)
        reqs = srv.requests()
        fs = [r for r in reqs if r["command"] == "FolderSync"]
        check(len(fs) >= 2 and fs[0].get("eas_status") == 9 and
              "<SyncKey>0</SyncKey>" in (fs[1].get("body_xml") or ""),
              "no FolderSync from key 0 after Status 9: %s",
              [(r["seq"], r.get("eas_status")) for r in fs])
        check(not run.of("folder_delete"), "folders deleted: %s", run.of("folder_delete"))
        check(not run.of("item_delete"), "items deleted: %s", run.of("item_delete"))
        zero = [cid for r in sync_requests(reqs) for cid, k in sync_keys(r) if k == "0"]
        check(not zero, "folders restarted from SyncKey 0: %s", zero)
        view.apply(run.events)
        assert_view_matches_server(view, srv)
    finally:
        srv.close()


@test
def t_sync_status12(tmp):
    """Sync Status 12 (hierarchy changed) for one folder: a FolderSync follows, the new
    folder is found and synced, the sync completes; no SyncKey 0 for known folders."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="st12")
        view = View().apply(c.run().events)
        res = srv.changes([{"op": "add_folder", "name": "Arrived", "type": 12, "parent": "0"}])
        new_id = res[0].get("folder") or res[0].get("id")
        srv.changes([{"op": "new_mail", "folder": new_id, "subject": "in the new folder"},
                     {"op": "new_mail", "subject": "in the Inbox"}])
        srv.faults({"command": "Sync", "type": "status", "status": 12, "collection": "1"})
        srv.reset_log()
        run = c.run()
        assert_complete(run)
        view.apply(run.events)
        check(new_id in view.folders, "new folder %s not found", new_id)
        assert_view_matches_server(view, srv)
        zero = [cid for r in sync_requests(srv.requests()) for cid, k in sync_keys(r)
                if k == "0" and cid != new_id]
        check(not zero, "known folders restarted from SyncKey 0: %s", zero)
    finally:
        srv.close()


@test
def t_remote_wipe(tmp):
    """Remote wipe: the engine tells the application, acknowledges (Provision with the
    RemoteWipe Status 1) and stops in the wiped state; nothing is synced afterwards."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="wipe")
        c.run()
        srv.control("POST", "wipe", {"user": "testuser", "device": "wipe"})
        srv.reset_log()
        run = c.run(timeout_s=20)
        check(run.rc != 0, "eas-sync claims a complete sync on a wiped device")
        check(run.summary().get("state") == "wiped", "final state %s", run.summary())
        reqs = srv.requests()
        acks = [r for r in reqs if r["command"] == "Provision" and
                "<RemoteWipe>" in (r.get("body_xml") or "")]
        check(len(acks) == 1, "%d wipe acknowledgements", len(acks))
        after = [r["command"] for r in reqs if r["seq"] > acks[0]["seq"]]
        check(not after, "requests after the wipe acknowledgement: %s", after)
    finally:
        srv.close()


# ---- 401 ------------------------------------------------------------------------------

@test
def t_http_401_stops(tmp):
    """HTTP 401 -> reported as a credentials problem, eas-sync stops: no retry storm."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, password="wrong", device="auth")
        run = c.run(timeout_s=20)
        check(run.rc != 0, "eas-sync succeeded with a wrong password")
        s = run.summary()
        check(s.get("state") == "auth-failed", "final state %s", s)
        reqs = srv.requests()
        check(1 <= len(reqs) <= 2, "%d requests with a wrong password", len(reqs))
        check(all(r["status"] == 401 for r in reqs), "statuses %s",
              [r["status"] for r in reqs])
        check(run.secs < 19, "eas-sync kept going until its timeout after a 401")
    finally:
        srv.close()


@test
def t_http_401_mid_sync(tmp):
    """401 in the middle of a sync (password changed on the server): stop, do not retry."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="auth2")
        srv.faults({"command": "Sync", "nth": 3, "times": 0, "type": "http", "status": 401})
        run = c.run(timeout_s=20)
        check(run.rc != 0, "eas-sync succeeded although the server answered 401")
        check(run.summary().get("state") == "auth-failed", "final state %s", run.summary())
        n401 = [r for r in srv.requests() if r["status"] == 401]
        check(len(n401) == 1, "%d requests answered 401 (retry storm)", len(n401))
    finally:
        srv.close()


# ---- power loss --------------------------------------------------------------------------

def _power_loss(tmp, deletes):
    """SIGKILL eas-sync at >= 100 random points of a large first sync (by time: during
    OPTIONS/Provision/FolderSync/requests in flight; by delivered item: between an item and
    the commit of its response), restarting with the same state dir each time, while the
    server also changes and deletes items now and then. Then run to completion: every server
    item must be in the folded view (upserts by (folder, ServerId)) exactly once with its
    current Subject, nothing deleted may remain, and a further run must deliver nothing."""
    seed, rng = rng_from_env()
    print("  EASD_SEED=%d" % seed)
    srv = Server(tmp, mailbox=None, generate=OPT.power_items)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="powerloss")
        view = View()
        kills = runs = completed = changed = deleted = 0
        while kills < OPT.kills and runs < OPT.kills * 3:
            runs += 1
            if rng.random() < 0.4:
                killed, run = c.run_killed(rng, after_s=rng.uniform(0.0, 0.5))
            else:
                killed, run = c.run_killed(rng, after_lines=rng.randint(1, 300))
            view.apply(run.events)
            kills += 1 if killed else 0
            check(not any(e.get("error") == "EAS_ERR_STORE_CORRUPT" for e in run.errors()),
                  "state corrupt after a kill")
            if not killed:
                completed += 1
                check(run.rc == 0, "eas-sync failed after a restart: %s", run.summary())
            if runs % 7 == 0 or not killed:
                # Server-side changes while the device is down or half synced.
                # Subject-bearing classes only: the view check compares Subjects.
                sf = srv.server_folders()
                items = sorted(k for k in srv.server_items()
                               if int(sf[k[0]]["type"]) not in (9, 14))
                picks = rng.sample(items, min(len(items), 8))
                ch = [{"op": "change_item", "server_id": sid,
                       "set": {"Subject": "power-loss change %d/%d" % (runs, i)}}
                      for i, (_, sid) in enumerate(picks[:5])]
                if deletes:
                    ch += [{"op": "delete_item", "server_id": sid} for _, sid in picks[5:]]
                    deleted += len(picks[5:])
                if not killed:
                    ch += [{"op": "new_mail", "subject": "grow %d-%d" % (runs, i)}
                           for i in range(rng.randint(100, 300))]
                srv.changes(ch)
                changed += len(picks[:5])
        check(kills >= OPT.kills, "only %d kills landed", kills)
        final = c.run(timeout_s=600)
        assert_complete(final, "final run after %d kills" % kills)
        view.apply(final.events)
        n = assert_view_matches_server(view, srv)
        again = c.run()
        assert_complete(again, "run after the final one")
        items = [e for e in again.events if e.get("event", "").startswith("item_")]
        check(not items, "a complete state delivered %d more item events", len(items))
        # [S 2.13] under kills: SyncKey 0 only as a folder's first request or right after
        # the server invalidated that folder's key (Status 3).
        # A request with a key other than 0 proves that key was committed; until the
        # server invalidates it (Status 3), going back to 0 would be wrong.
        progressed = {}
        for r in sync_requests(srv.requests()):
            for cid, k in sync_keys(r):
                check(k != "0" or not progressed.get(cid),
                      "folder %s restarted from SyncKey 0 without a Status 3 (seq %s)", cid,
                      r["seq"])
                rx = r.get("response_xml") or ""
                progressed[cid] = k != "0" and "<Status>3</Status>" not in rx
        print("  %d kills in %d runs (%d ran to completion), %d server changes and %d deletes "
              "meanwhile; %d items exactly once" % (kills, runs, completed, changed, deleted, n))
    finally:
        srv.close()


@test
def t_power_loss(tmp):
    """SIGKILL at >= 100 random points of a large first sync with server-side changes in
    between: every item delivered, each exactly once in the folded view, nothing more to do
    afterwards; SyncKey 0 only for a new folder or after Status 3."""
    _power_loss(tmp, deletes=False)


@test
def t_power_loss_deletes(tmp):
    """Power loss as above, and the server also deletes items in between. A folder whose key
    the server invalidated restarts from 0 and the server never sends Deletes for it: the
    application needs the engine's RESYNC_BEGIN/END to drop what is gone [S 2.13]."""
    _power_loss(tmp, deletes=True)


@test
def t_power_loss_meeting_response(tmp):
    """Outbox under power loss [S 1.15]: after a first sync, accept the meeting invitation
    (eas-sync --respond queues it through eas_meeting_respond()) while the server holds each
    MeetingResponse answer back 400 ms after applying it, and SIGKILL the run at 50 random
    points (before, during and after the exchange, including "server applied it, client
    never heard"), restarting with the same state each time. The server must record exactly
    one response, with the user's decision, and the mailbox view must stay exact."""
    seed, rng = rng_from_env()
    print("  EASD_SEED=%d" % seed)
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="mrkill")
        view = View().apply(c.run().events)
        srv.faults({"command": "MeetingResponse", "type": "delay", "ms": 400, "after": True,
                    "times": 0})
        respond = ["--respond", "1:7:accept"]
        kills = runs = in_flight = 0
        dur = 0.6  # of the last run that was not killed: later kill points fall inside it
        while kills < OPT.kills // 2 and runs < OPT.kills * 4:
            runs += 1
            before = len(srv.control("GET", "meeting_responses")["meeting_responses"])
            if rng.random() < 0.7:
                killed, run = c.run_killed(rng, after_s=rng.uniform(0.0, dur), extra=respond)
            else:
                killed, run = c.run_killed(rng, after_lines=rng.randint(1, 20), extra=respond)
            if not killed:
                dur = max(run.secs, 0.01)
            view.apply(run.events)
            after = len(srv.control("GET", "meeting_responses")["meeting_responses"])
            check(after <= 1, "%d MeetingResponses after %d kills", after, kills)
            if killed:
                kills += 1
                in_flight += 1 if before == 0 and after == 1 else 0
        check(kills >= OPT.kills // 2, "only %d kills landed in %d runs", kills, runs)
        final = c.run(extra=respond)
        assert_complete(final, "final run")
        view.apply(final.events)
        mr = srv.control("GET", "meeting_responses")["meeting_responses"]
        check(len(mr) == 1, "%d MeetingResponses recorded: %s", len(mr), mr)
        check(str(mr[0].get("user_response")) == "1", "response %s is not accept", mr[0])
        sent = [r for r in srv.requests() if r["command"] == "MeetingResponse"]
        assert_view_matches_server(view, srv)
        print("  %d kills in %d runs (%d while the server had applied the response but not "
              "answered); %d MeetingResponse requests, 1 recorded" % (
                  kills, runs, in_flight, len(sent)))
    finally:
        srv.close()


def _mr_requests(srv):
    return [r for r in srv.requests() if r["command"] == "MeetingResponse"]


def _mr_check_once(srv, what):
    """Exactly one MeetingResponse request reached the server and one response is recorded."""
    reqs = _mr_requests(srv)
    mr = srv.control("GET", "meeting_responses")["meeting_responses"]
    check(len(reqs) == 1, "%s: %d MeetingResponse requests (the server applied each): %s",
          what, len(reqs), [(r["seq"], r.get("fault_types")) for r in reqs])
    check(len(mr) == 1 and not mr[0].get("duplicate"), "%s: %d MeetingResponses recorded: %s",
          what, len(mr), mr)
    check(str(mr[0].get("user_response")) == "1", "%s: response %s is not accept", what, mr[0])


def _mr_edit_no_reinvite(tmp, srv, c):
    """The attendee edits the accepted meeting's reminder: the Change goes out, but no
    MeetingResponse and no mail (no meeting update on the attendee's behalf)."""
    cal = [k for k, it in srv.server_items().items()
           if it.get("class") == "Calendar" and
           it.get("data", {}).get("UID") == "demo-arch-review-uid"]
    check(len(cal) == 1, "the accepted meeting is not in the server's calendar: %s", cal)
    check(srv.server_items()[cal[0]]["data"].get("ResponseType") == 3,
          "the server's calendar item does not show the acceptance")
    n_mr = len(_mr_requests(srv))
    sent_before = len(srv.control("GET", "sent")["sent"])
    folder, sid = cal[0]
    edits = os.path.join(tmp, "edit.tsv")
    with open(edits, "w") as f:
        # As an application passes it: the item's organizer with the edited field.
        f.write("change\t%s\t%s\tCalendar:OrganizerEmail=erin@example.test\t"
                "Calendar:Reminder=30\n" % (folder, sid))
    since = max([r["seq"] for r in srv.requests()] + [0])
    run = c.run(timeout_s=60, extra=["--local-changes", edits])
    assert_complete(run, "run with the attendee's local edit")
    changes = [r for r in sync_requests(srv.requests()) if r["seq"] > since and
               "<Change>" in (r.get("body_xml") or "")]
    check(changes, "the attendee's edit was never sent")
    check("Reminder>30<" in changes[-1]["body_xml"] and
          "OrganizerEmail" not in changes[-1]["body_xml"],
          "the attendee's Change is not just the reminder: %s", changes[-1]["body_xml"])
    check(len(_mr_requests(srv)) == n_mr, "the local edit sent %d more MeetingResponse(s)",
          len(_mr_requests(srv)) - n_mr)
    check(len(srv.control("GET", "sent")["sent"]) == sent_before,
          "the local edit of an accepted meeting sent mail")
    return sid


def _goid_seen(view):
    """The invitation's GlobalObjId as the application received it (its stored fields)."""
    inv = view.items.get(("1", "1:7"))
    check(inv is not None, "the invitation 1:7 was not delivered")
    goid = field(inv, "GlobalObjId")
    check(goid, "the invitation has no GlobalObjId: %s", inv.get("fields"))
    return goid


@test
def t_s1_15_meeting_response_duplicates_accepted(tmp):
    """[S 1.15] with a server that accepts and records duplicate MeetingResponses (the
    invitation stays in the Inbox), "exactly one" must come from the client: the answer to
    the first MeetingResponse to an Inbox invitation is lost after the server applied it
    (connection reset); eas-sync, which named the meeting by the GlobalObjId it received,
    syncs the calendar before a resend, finds the meeting accepted and sends nothing more;
    two restarts with the same decision send nothing either. Then the user edits the
    accepted meeting's reminder: no MeetingResponse and no mail."""
    srv = Server(tmp)
    try:
        srv.control("POST", "settings", {"meeting_response_duplicates": "accept"})
        c = Client(tmp, OPT.sync, srv.url, device="mrdup")
        view = View().apply(c.run().events)
        respond = ["--respond", "1:7:accept", "--respond-uid", _goid_seen(view)]
        srv.faults({"command": "MeetingResponse", "type": "reset", "after_bytes": 0})
        for i in range(3):
            run = c.run(timeout_s=60, extra=respond)
            view.apply(run.events)
            assert_complete(run, "run %d with --respond" % (i + 1))
        check(any(r.get("fault_types") for r in _mr_requests(srv)), "the answer was never lost")
        _mr_check_once(srv, "lost answer, 2 restarts")
        check(("1", "1:7") in view.items, "the invitation left the Inbox (server in accept mode)")
        sid = _mr_edit_no_reinvite(tmp, srv, c)
        print("  1 MeetingResponse request after a lost answer and 2 restarts; calendar item "
              "%s edited without re-inviting" % sid)
    finally:
        srv.close()


def _run_killed_when(c, extra, cond, timeout_s=30):
    """Start eas-sync and SIGKILL it as soon as cond() holds (polled every 20 ms); returns
    True when it was killed, False when it ended first."""
    proc = subprocess.Popen(c.cmd(extra=extra), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    try:
        while proc.poll() is None and time.monotonic() - t0 < timeout_s:
            if cond():
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.02)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _mr_killed(tmp, device, respond):
    """The server (accepting duplicates) applies the MeetingResponse and holds its answer
    back 3 s; eas-sync is killed (SIGKILL) right after the server applied it, then restarted
    twice: one MeetingResponse request in all, one recorded; then the no-re-invite edit."""
    srv = Server(tmp)
    try:
        srv.control("POST", "settings", {"meeting_response_duplicates": "accept"})
        c = Client(tmp, OPT.sync, srv.url, device=device)
        view = View().apply(c.run().events)
        extra = respond(view)
        srv.faults({"command": "MeetingResponse", "type": "delay", "ms": 3000, "after": True,
                    "times": 1})
        applied = lambda: srv.control("GET", "meeting_responses")["meeting_responses"]  # noqa
        killed = _run_killed_when(c, extra, lambda: len(applied()) > 0)
        check(killed, "eas-sync ended before the server applied the response")
        check(len(applied()) == 1, "%d responses applied before the kill", len(applied()))
        for i in range(2):
            run = c.run(timeout_s=60, extra=extra)
            view.apply(run.events)
            assert_complete(run, "restart %d after the kill" % (i + 1))
        # The held-back answer to the killed run is logged once the server gave up on it.
        t0 = time.monotonic()
        while not any(r.get("fault_types") for r in _mr_requests(srv)) and \
                time.monotonic() - t0 < 10:
            time.sleep(0.1)
        check(any(r.get("fault_types") for r in _mr_requests(srv)),
              "the killed run's MeetingResponse is not in the server log")
        _mr_check_once(srv, "killed after the server applied it, 2 restarts")
        assert_view_matches_server(view, srv)
        sid = _mr_edit_no_reinvite(tmp, srv, c)
        print("  killed while the answer was held back; 1 MeetingResponse request after 2 "
              "restarts; %s edited without re-inviting" % sid)
    finally:
        srv.close()


@test
def t_s1_15_meeting_response_killed_inbox(tmp):
    """[S 1.15] Inbox path across a crash: accept the invitation (named by the GlobalObjId
    the application received), SIGKILL eas-sync after the duplicate-accepting server applied
    the response but before its answer arrived, restart twice: exactly one request."""
    _mr_killed(tmp, "mrkill-inbox",
               lambda view: ["--respond", "1:7:accept", "--respond-uid", _goid_seen(view)])


@test
def t_s1_15_meeting_response_killed_calendar(tmp):
    """[S 1.15] Calendar path across a crash: accept the meeting from its calendar item
    (6:6), SIGKILL after the duplicate-accepting server applied it, restart twice: exactly
    one request (the calendar item's ResponseType proves it)."""
    _mr_killed(tmp, "mrkill-cal",
               lambda view: ["--respond", "6:6:accept", "--respond-folder", "6"])


@test
def t_s1_15_meeting_response_lost_calendar(tmp):
    """[S 1.15] Calendar path, lost answer: the answer to a MeetingResponse for the calendar
    item is lost after the duplicate-accepting server applied it (reset): exactly one
    request, also after a restart."""
    srv = Server(tmp)
    try:
        srv.control("POST", "settings", {"meeting_response_duplicates": "accept"})
        c = Client(tmp, OPT.sync, srv.url, device="mrlostcal")
        c.run()
        respond = ["--respond", "6:6:accept", "--respond-folder", "6"]
        srv.faults({"command": "MeetingResponse", "type": "reset", "after_bytes": 0})
        for i in range(2):
            assert_complete(c.run(timeout_s=60, extra=respond), "run %d" % (i + 1))
        check(any(r.get("fault_types") for r in _mr_requests(srv)), "the answer was never lost")
        _mr_check_once(srv, "calendar path, lost answer")
    finally:
        srv.close()


def _outbox_case(tmp, srv, c, line, fault, what):
    """Queue one local change with a per-item status fault; return (run, Sync requests that
    carried a client command, outbox results)."""
    srv.control("DELETE", "faults")
    if fault:
        srv.faults(fault)
    srv.reset_log()
    path = os.path.join(tmp, "local-%s.tsv" % what)
    with open(path, "w") as f:
        f.write(line + "\n")
    run = c.run(timeout_s=90, extra=["--local-changes", path])
    carried = [r for r in srv.requests(command="Sync")
               if re.search(r"<Commands>", r.get("body_xml") or "")]
    return run, carried, run.of("outbox_result")


@test
def t_s1_13_outbox_item_status(tmp):
    """[S 1.13] each per-item Status of a local Add/Change/Delete has one defined outcome
    (docs/integration.md): 5/16 retried (sent again, then applied), 7 conflict / 6 invalid /
    4 bad: reported and dropped with the entry named in its outbox result, never resent;
    8 on a Delete: done without an error; a 16 that never ends: dropped after
    CONFIG_EAS_OUTBOX_MAX_ATTEMPTS sends, reported."""
    srv = Server(tmp)
    try:
        cfold = [f["id"] for f in srv.server_folders().values() if f.get("class") == "Contacts"][0]
        srv.changes([{"op": "add_item", "folder": cfold, "class": "Contacts",
                      "data": {"FileAs": "Extra %d" % i, "FirstName": "Extra"}}
                     for i in range(3)])
        c = Client(tmp, OPT.sync, srv.url, device="obstatus")
        c.run()
        items = srv.server_items()
        contacts = sorted(k for k, it in items.items() if it.get("class") == "Contacts")
        check(len(contacts) >= 4, "demo mailbox has %d contacts", len(contacts))
        (cf, s1), (_, s2), (_, s3), (_, s4) = contacts[:4]
        rx = []

        # 5 once: kept, sent again with the next Sync, then applied.
        run, carried, res = _outbox_case(
            tmp, srv, c, "change\t%s\t%s\tContacts:FileAs=retried 5" % (cf, s1),
            {"command": "Sync", "type": "item_status", "status": 5, "op": "Change"}, "r5")
        assert_complete(run, "Status 5 case")
        check(len(carried) == 2, "Status 5: the Change went out %d times (expected 2)",
              len(carried))
        check([r["status"] for r in res] == [1], "Status 5: outbox results %s", res)
        check(srv.server_items()[(cf, s1)]["data"].get("FileAs") == "retried 5",
              "Status 5: the retried change never reached the server")
        rx.append("5: sent 2x, applied")

        # 7 conflict: reported, dropped, named; never resent.
        for st, sid, op in ((7, s2, "Change"), (6, s3, "Change"), (4, s4, "Change")):
            run, carried, res = _outbox_case(
                tmp, srv, c, "change\t%s\t%s\tContacts:FileAs=refused %d" % (cf, sid, st),
                {"command": "Sync", "type": "item_status", "status": st, "op": op},
                "r%d" % st)
            assert_complete(run, "Status %d case" % st)
            check(len(carried) == 1, "Status %d: the Change went out %d times (expected 1)",
                  st, len(carried))
            check(len(res) == 1 and res[0]["status"] == st and res[0]["server_id"] == sid,
                  "Status %d: outbox result %s does not name %s", st, res, sid)
            check(any(e.get("status") == st for e in run.errors()),
                  "Status %d not reported: %s", st, run.errors())
            check(srv.server_items()[(cf, sid)]["data"].get("FileAs") != "refused %d" % st,
                  "Status %d: the change was applied anyway", st)
            check(run.summary().get("local_pending") == 0, "Status %d: entry still queued: "
                  "%s", st, run.summary())
            rx.append("%d: sent 1x, dropped, named" % st)

        # Add refused with 6: dropped, reported, no second Add.
        run, carried, res = _outbox_case(
            tmp, srv, c, "add\t%s\tContacts:FileAs=never added" % cf,
            {"command": "Sync", "type": "item_status", "status": 6, "op": "Add"}, "a6")
        assert_complete(run, "Add Status 6 case")
        check(len(carried) == 1 and [r["status"] for r in res] == [6],
              "Add Status 6: sent %d times, results %s", len(carried), res)
        check(not any(it["data"].get("FileAs") == "never added"
                      for it in srv.server_items().values()), "Add Status 6 was applied")
        rx.append("Add 6: sent 1x, dropped")

        # Delete answered 8 (already gone): done, no error.
        run, carried, res = _outbox_case(
            tmp, srv, c, "delete\t%s\t%s" % (cf, s4),
            {"command": "Sync", "type": "item_status", "status": 8, "op": "Delete"}, "d8")
        assert_complete(run, "Delete Status 8 case")
        check(len(carried) == 1 and [r["status"] for r in res] == [8],
              "Delete Status 8: sent %d times, results %s", len(carried), res)
        check(not any(e.get("status") == 8 for e in run.errors()),
              "Delete Status 8 reported as an error: %s", run.errors())
        rx.append("Delete 8: done, no error")

        # 16 forever: dropped after the attempt cap, reported.
        run, carried, res = _outbox_case(
            tmp, srv, c, "change\t%s\t%s\tContacts:FileAs=deferred forever" % (cf, s3),
            {"command": "Sync", "type": "item_status", "status": 16, "op": "Change",
             "times": 0}, "r16")
        check(len(carried) == OPT.outbox_max_attempts,
              "Status 16 forever: the Change went out %d times (cap %d)", len(carried),
              OPT.outbox_max_attempts)
        check([r["status"] for r in res] == [0], "Status 16 forever: results %s", res)
        check(any("deferred too often" in (e.get("what") or "") for e in run.errors()),
              "the drop after the cap was not reported: %s", run.errors())
        rx.append("16 forever: sent %dx, dropped" % len(carried))
        print("  " + "; ".join(rx))
    finally:
        srv.close()


@test
def t_s1_2_attendee_change_sent(tmp):
    """[S 1.2, 1.11] the engine, not a caller's flag, decides that the user is an attendee:
    eas-sync passes the meeting's fields as received (no attendee flag). The Sync Change
    actually sent (server request log) for the meeting organized by erin@ carries only the
    attendee's own properties (Reminder, BusyStatus), never Subject, Location, the organizer
    or MeetingStatus; the server's meeting keeps its Subject; no mail goes out on the
    attendee's behalf. The same change with only MeetingStatus 3 (received meeting) is
    filtered too. The user's own meeting (OrganizerEmail = the account) is sent whole."""
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="attendee",
                   extra=["--email", "testuser@example.test"])
        c.run()
        subject0 = srv.server_items()[("6", "6:6")]["data"]["Subject"]
        sent0 = len(srv.control("GET", "sent")["sent"])

        def change(name, sid, fields):
            path = os.path.join(tmp, "%s.tsv" % name)
            with open(path, "w") as f:
                f.write("change\t6\t%s\t%s\n" % (sid, "\t".join(fields)))
            srv.reset_log()
            run = c.run(timeout_s=60, extra=["--local-changes", path])
            assert_complete(run, name)
            bodies = [r.get("body_xml") or "" for r in srv.requests(command="Sync")
                      if "<Commands>" in (r.get("body_xml") or "")]
            check(len(bodies) == 1, "%s: %d Syncs carried the change", name, len(bodies))
            m = re.search(r"<Change>.*?</Change>", bodies[0] if bodies else "", re.S)
            return m.group(0) if m else ""

        organizer_props = ("Subject", "Location", "OrganizerEmail", "OrganizerName",
                           "MeetingStatus", "Attendees", "StartTime", "EndTime")
        for name, fields in (
                ("by_organizer_address",
                 ["Calendar:OrganizerEmail=erin@example.test", "Calendar:Subject=Renamed",
                  "Calendar:Location=Elsewhere", "Calendar:Reminder=15",
                  "Calendar:BusyStatus=1"]),
                ("by_meeting_status",
                 ["Calendar:MeetingStatus=3", "Calendar:Subject=Renamed again",
                  "Calendar:Reminder=20", "Calendar:EndTime=20300101T000000Z"])):
            ch = change(name, "6:6", fields)
            check("<ServerId>6:6</ServerId>" in ch and re.search(r"<(\w+:)?Reminder>", ch),
                  "%s: the attendee's Reminder was not sent: %s", name, ch)
            leaked = [p for p in organizer_props if re.search(r"<(\w+:)?%s[ >/]" % p, ch)]
            check(not leaked, "%s: organizer properties sent by an attendee: %s in %s",
                  name, leaked, ch)
        check(srv.server_items()[("6", "6:6")]["data"]["Subject"] == subject0,
              "the attendee renamed the organizer's meeting")
        check(len(srv.control("GET", "sent")["sent"]) == sent0,
              "mail went out on the attendee's behalf")
        # [S 1.11] the real 172-byte TimeZone blob of a demo meeting, as received
        blob = srv.server_items()[("6", "6:2")]["data"]["Timezone"]
        import base64
        check(len(base64.b64decode(blob)) == 172, "demo blob is not 172 bytes")
        ch = change("own_meeting", "6:9", ["Calendar:OrganizerEmail=testuser@example.test",
                                            "Calendar:Subject=My call, renamed",
                                            "Calendar:Timezone=" + blob,
                                            "Calendar:Body=edited from a truncated copy"])
        m = re.search(r"<(\w+:)?Timezone>([^<]*)</", ch)
        check(m and base64.b64decode(m.group(2)) == base64.b64decode(blob),
              "the TimeZone blob sent is not byte-identical: %s", m.group(2) if m else ch)
        check(srv.server_items()[("6", "6:9")]["data"].get("Timezone") == blob,
              "the server does not hold the same blob")
        check(re.search(r"<(\w+:)?Subject>My call, renamed</", ch),
              "the organizer's own change lost its Subject: %s", ch)
        # [S 1.11] eas-sync never says the body was received complete: it is not sent back.
        check(not re.search(r"<(\w+:)?Body[ >/]", ch), "a body was sent back: %s", ch)
        print("  attendee changes carried only Reminder/BusyStatus; own meeting sent whole")
    finally:
        srv.close()


@test
def t_s2_14_reply_all_folded(tmp):
    """[S 2.14] reply-all with folded To:/Cc: headers (RFC 5322 folding: the user's own
    address on a continuation line, any case): the address is dropped wherever it stands,
    every other recipient stays, and the message is sent once as a SmartReply."""
    srv = Server(tmp)
    try:
        me = "testuser@example.test"
        c = Client(tmp, OPT.sync, srv.url, device="replyall", extra=["--email", me])
        c.run()
        path = os.path.join(tmp, "reply.eml")
        with open(path, "wb") as f:
            f.write(("From: Test User <%s>\r\n"
                     "To: Alice <alice@example.test>,\r\n"
                     "   Test User <TestUser@Example.Test>,\r\n"
                     "\tCarol <carol@example.test>\r\n"
                     "Cc: Bob <bob@example.test>,\r\n"
                     " %s\r\n"
                     "Subject: Re: folded\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n\r\nThanks.\r\n"
                     % (me, me)).encode())
        run = c.run(timeout_s=60, extra=["--send-mime", path, "--reply", "1:1:2",
                                         "--reply-all"])
        assert_complete(run, "reply-all run")
        sent = srv.control("GET", "sent")["sent"]
        check(len(sent) == 1 and sent[0]["command"] == "SmartReply", "sent: %s",
              [(x["command"], x["to"], x["cc"]) for x in sent])
        # The raw header lines as sent, unfolded here (the server's parser would also
        # "repair" a header whose fold lost its separator, so its To/Cc are not the oracle).
        head = (sent[0]["mime"] if sent else "").split("\r\n\r\n")[0]
        head = re.sub(r"\r?\n[ \t]", " ", head)
        rcpt = " ".join(ln for ln in head.split("\r\n")
                        if ln.lower().startswith(("to:", "cc:"))).lower()
        check(me not in rcpt, "own address kept in a folded header: %s", rcpt)
        check(rcpt.count("@") == 3, "recipients as sent: %s", rcpt)
        for other in ("alice@", "carol@", "bob@"):
            check(other in rcpt, "%s lost from the recipients: %s", other, rcpt)
        print("  To: %s | Cc: %s" % (sent[0]["to"], sent[0]["cc"]) if sent else "")
    finally:
        srv.close()


@test
def t_power_loss_outbox(tmp):
    """Local changes under power loss [S 1.13]: in 4 phases, eas-sync --local-changes queues
    Calendar and Contacts adds (phase 1: during the large first sync), Subject changes and
    deletes (once the items are on the device) through eas_item_add/change/delete - 50 in
    all - while the runs are SIGKILLed at >= 100 random points (Sync requests held back
    40 ms so kills land with requests in flight) and restarted with the same state; the
    server also grows the Inbox now and then. Each phase ends with a complete run, so the
    outbox empties and later phases queue into an empty outbox again after a restart.
    Afterwards every add is on the server exactly once, every change and delete applied,
    nothing else changed, and the folded view plus the application's own edits equals the
    server."""
    seed, rng = rng_from_env()
    print("  EASD_SEED=%d" % seed)
    srv = Server(tmp, mailbox=None, generate=OPT.outbox_items)
    try:
        sf = srv.server_folders()
        cal = next(f for f, v in sf.items() if int(v["type"]) == 8)
        con = next(f for f, v in sf.items() if int(v["type"]) == 9)
        items0 = srv.server_items()
        cal_items = sorted(k[1] for k in items0 if k[0] == cal)
        con_items = sorted(k[1] for k in items0 if k[0] == con)
        picks = rng.sample(cal_items, 24)
        con_del = rng.sample(con_items, 4)
        changes, deletes, want, nlines = {}, [], set(), 0
        phases = 4
        # (adds per class, changes, calendar deletes, contact deletes) per phase
        plan = [(8, 6, 3, 1), (2, 2, 1, 1), (2, 2, 1, 1), (2, 2, 1, 1)]
        files = []
        for ph, (na, nc, ndc, ndk) in enumerate(plan):
            lines = []
            for i in range(na):
                lines.append("add\t%s\tCalendar:Subject=outbox add cal %d-%d\t"
                             "Calendar:StartTime=2026%02d%02dT100000Z\t"
                             "Calendar:EndTime=2026%02d%02dT110000Z" % (
                                 cal, ph, i, ph + 1, i + 1, ph + 1, i + 1))
                lines.append("add\t%s\tContacts:FileAs=outbox add contact %d-%d\t"
                             "Contacts:Email1Address=outbox%d.%d@example.com" % (
                                 con, ph, i, ph, i))
                want |= {"outbox add cal %d-%d" % (ph, i), "outbox add contact %d-%d" % (ph, i)}
            for _ in range(nc):
                sid = picks.pop()
                changes[sid] = "outbox change %s" % sid
                lines.append("change\t%s\t%s\tCalendar:Subject=%s" % (cal, sid, changes[sid]))
            dl = [(cal, picks.pop()) for _ in range(ndc)] + [(con, con_del.pop())
                                                              for _ in range(ndk)]
            deletes += dl
            lines += ["delete\t%s\t%s" % k for k in dl]
            path = os.path.join(tmp, "local-changes-%d.txt" % ph)
            with open(path, "w") as fh:
                fh.write("# power_loss_outbox phase %d\n" % ph + "\n".join(lines) + "\n")
            files.append((path, len(lines)))
            nlines += len(lines)

        def added(items):
            out = {}
            for (f, sid), it in items.items():
                d = it.get("data", {})
                name = d.get("Subject") if f == cal else d.get("FileAs") if f == con else None
                if name and name.startswith("outbox add "):
                    out.setdefault(name, []).append((f, sid))
            return out

        srv.faults({"command": "Sync", "type": "delay", "ms": 40, "times": 0})
        c = Client(tmp, OPT.sync, srv.url, device="obkill")
        view = View()
        kills = runs = completed = grown = 0
        results = []
        dur = 0.5
        for ph, (lc, nl) in enumerate(files):
            extra = ["--local-changes", lc]
            target = OPT.kills * (ph + 1) // phases
            while kills < target and runs < OPT.kills * 3:
                runs += 1
                if rng.random() < 0.6:
                    killed, run = c.run_killed(rng, after_s=rng.uniform(0.0, dur), extra=extra)
                else:
                    killed, run = c.run_killed(rng, after_lines=rng.randint(1, 300), extra=extra)
                view.apply(run.events)
                results += run.of("outbox_result")
                check(not any(e.get("error") == "EAS_ERR_STORE_CORRUPT" for e in run.errors()),
                      "state corrupt after a kill")
                if killed:
                    kills += 1
                else:
                    completed += 1
                    dur = max(run.secs, 0.05)
                    check(run.rc == 0, "eas-sync failed after a restart: %s", run.summary())
                dup = {k: v for k, v in added(srv.server_items()).items() if len(v) > 1}
                check(not dup, "adds on the server more than once after %d kills: %s", kills,
                      dup)
                if runs % 9 == 0:
                    srv.changes([{"op": "new_mail", "subject": "grow %d-%d" % (runs, i)}
                                 for i in range(rng.randint(20, 60))])
                    grown += 1
            done = c.run(timeout_s=600, extra=extra)
            assert_complete(done, "phase %d's last run after %d kills" % (ph + 1, kills))
            view.apply(done.events)
            results += done.of("outbox_result")
            s = done.summary()
            check(s.get("local_queued") == nl and s.get("local_pending") == 0,
                  "phase %d: local changes not all queued and answered: %s", ph + 1, s)
        check(kills >= OPT.kills, "only %d kills landed in %d runs", kills, runs)
        oracle = srv.server_items()
        got = added(oracle)
        check(set(got) == want, "adds missing on the server: %s", sorted(want - set(got)))
        check(all(len(v) == 1 for v in got.values()), "adds duplicated: %s",
              {k: v for k, v in got.items() if len(v) > 1})
        for sid, subj in changes.items():
            it = oracle.get((cal, sid))
            check(it is not None and it["data"].get("Subject") == subj,
                  "change of %s not applied: %s", sid, it and it["data"].get("Subject"))
        for key in deletes:
            check(key not in oracle, "delete of %s not applied", key)
        # Nothing else changed: every item the server had is still there unless deleted.
        own = {v[0] for v in got.values()}
        base = {k for k in oracle if k not in own}
        lost = set(items0) - set(deletes) - base
        check(not lost, "%d items gone from the server, e.g. %s", len(lost), sorted(lost)[:3])
        # The application's own edits on top of what the engine delivered: its deletes are
        # gone; its adds it knows by the ServerId of their outbox result, and the server may
        # also deliver them back (a resent Add after a lost answer): an upsert, same key.
        for key in deletes:
            view.items.pop(key, None)
        own_sids = {k[1]: k[0] for k in own}
        told = {(own_sids.get(r["server_id"]), r["server_id"]) for r in results
                if r.get("kind") == "add" and r.get("final") and str(r.get("status")) == "1"}
        unknown = sorted(own - told - set(view.items))
        check(not unknown, "%d own adds whose ServerId the application never learnt: %s",
              len(unknown), unknown[:5])
        have = set(view.items) - own
        missing = sorted(base - have)
        extra_v = sorted(have - base)
        check(not missing, "%d server items never delivered, e.g. %s", len(missing), missing[:5])
        check(not extra_v, "%d items in the view the server does not have, e.g. %s",
              len(extra_v), extra_v[:5])
        wrong = [(k, field(view.items[k], "Subject"), oracle[k]["data"].get("Subject"))
                 for k in base if k[1] not in changes and
                 oracle[k]["data"].get("Subject") is not None and
                 field(view.items[k], "Subject") != oracle[k]["data"].get("Subject")]
        check(not wrong, "%d items hold another Subject than the server's, e.g. %s",
              len(wrong), wrong[:3])
        resent = len([r for r in srv.requests() if r["command"] == "Sync" and
                      "<Add>" in (r.get("body_xml") or "")])
        print("  %d kills in %d runs (%d ran to completion, %d Inbox growths); %d local "
              "changes (%d adds, %d changes, %d deletes) each applied exactly once; %d items "
              "in the view, %d own adds delivered back; %d outbox results, %d Sync requests "
              "carrying Adds" % (kills, runs, completed, grown, nlines, len(want),
                                 len(changes), len(deletes), len(base),
                                 len(own & set(view.items)), len(results), resent))
    finally:
        srv.close()


# ---- calendar: engine -> application view -> calendar module ------------------------------

@test
def t_agenda_demo(tmp):
    """The demo mailbox's calendar, synced by eas-sync and expanded by eas-agenda (calendar
    module): Outlook day-31 and Feb-29 rules, a deleted and a moved occurrence [S 1.1],
    one series per ServerId with its exceptions attached [S 1.12], the 3-day all-day event
    and the 46-hour event keep their kind and span [S 1.4, 1.6]."""
    check(OPT.agenda, "--agenda is needed")
    import subprocess
    srv = Server(tmp)
    try:
        c = Client(tmp, OPT.sync, srv.url, device="agenda")
        run = c.run()
        assert_complete(run)
        out = os.path.join(tmp, "run1-agenda.jsonl")
        p = subprocess.run([OPT.agenda, "--json", "--from", "20250101T000000Z", "--days",
                            "400", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        check(p.returncode == 0, "eas-agenda failed: %s", p.stderr)
        occ = [json.loads(line) for line in p.stdout.splitlines()]
        by = {}
        for o in occ:
            by.setdefault(o["server_id"], []).append(o)

        def starts(sid):
            return [o["start"] for o in by.get(sid, [])]
        with open(DEMO) as fh:
            demo = json.load(fh)
        items = {it["id"]: it["data"] for it in demo["users"][0]["folders"][5]["items"]}

        def iso(compact):
            return "%s-%s-%sT%s:%s:%sZ" % (compact[0:4], compact[4:6], compact[6:8],
                                           compact[9:11], compact[11:13], compact[13:15])
        # Exceptions from the mailbox data: deleted ones absent, modified ones at their time.
        for sid, data in items.items():
            for ex in data.get("Exceptions", []):
                orig = iso(ex["ExceptionStartTime"])
                if ex.get("Deleted"):
                    check(orig not in starts(sid), "%s: deleted occurrence %s still there",
                          sid, orig)
                else:
                    moved = [o for o in by[sid] if o["start"] == iso(ex["StartTime"])]
                    check(moved and moved[0]["exception"] and
                          moved[0]["subject"] == ex["Subject"],
                          "%s: modified occurrence at %s missing or wrong: %s", sid,
                          ex["StartTime"], moved)
                    check(orig not in starts(sid), "%s: the moved occurrence also at %s", sid,
                          orig)
        # Outlook rules (docs/testserver.md describes the mailbox).
        m31 = [s[:10] for s in starts("6:1")]
        check(len(m31) == 12, "monthly-31st: %d occurrences (Occurrences=12)", len(m31))
        for d in ("2025-02-28", "2025-04-30", "2025-06-30", "2025-09-30", "2025-11-30"):
            check(d in m31, "monthly-31st not on the last day of a short month %s: %s", d, m31)
        leap = [s[:10] for s in starts("6:7")]
        check(any(s.startswith("2025-02-2") for s in leap),
              "yearly Feb-29 event missing in 2025: %s", leap)
        lf = [s[:10] for s in starts("6:8")]
        check(lf[:3] == ["2025-01-31", "2025-02-28", "2025-03-28"], "last Friday: %s", lf)
        off = by.get("6:4", [])
        check(len(off) == 1 and off[0]["all_day"], "3-day all-day event: %s", off)
        trip = by.get("6:5", [])
        check(len(trip) == 1 and not trip[0]["all_day"] and trip[0]["end"] ==
              "2025-05-07T10:00:00Z", "46-hour event: %s", trip)
        # [S 1.12]: one series per ServerId, no duplicate instances.
        for sid, lst in by.items():
            st = [o["start"] for o in lst]
            check(len(st) == len(set(st)), "%s has duplicate instances", sid)
        print("  %d occurrences of %d items checked" % (len(occ), len(by)))
    finally:
        srv.close()


# ---- [S 2.15] Ping ------------------------------------------------------------------------

@test
def t_s2_15_ping_reject_folder(tmp):
    """[S 2.15] the server rejects one folder (of 11 pinged) with Ping Status 7 whenever it is
    named: the engine isolates it, reports it (ping_rejected), never resends a Ping the server
    rejected, and keeps pinging the other folders without it."""
    srv = Server(tmp, scenario={"settings": {"ping_min": 1, "ping_max": 10,
                                             "ping_scale": 0.05},
                                "reject_ping_folders": {"12": 7}})
    try:
        c = Client(tmp, OPT.sync, srv.url, device="ping", extra=["--push", "15"])
        run = c.run(timeout_s=40)
        assert_complete(run)
        pings = srv.requests(command="Ping")
        import re

        def ids(r):
            return tuple(re.findall(r"<Id>([^<]*)</Id>", r.get("body_xml") or ""))
        rejected = set()
        for r in pings:
            check(not (ids(r) and ids(r) in rejected),
                  "a rejected Ping was resent (seq %s, folders %s)", r["seq"], ids(r))
            if r.get("eas_status") == 7:
                rejected.add(ids(r))
        rej = [e for e in run.events if e.get("event") == "ping_rejected"]
        check([e.get("folder") for e in rej] == ["12"], "ping_rejected events: %s", rej)
        last12 = max([i for i, r in enumerate(pings) if "12" in ids(r)], default=-1)
        after = pings[last12 + 1:]
        check(after and all(r.get("eas_status") in (1, 2) for r in after),
              "no clean Ping after folder 12 was isolated: %s",
              [(r["seq"], ids(r), r.get("eas_status")) for r in pings])
        print("  %d Pings, %d rejected, folder 12 left out after Ping #%d" % (
            len(pings), sum(1 for r in pings if r.get("eas_status") == 7), last12 + 1))
    finally:
        srv.close()


@test
def t_ping_status4_not_resent(tmp):
    """[S 2.15] Ping Status 4 (protocol error) injected once while pushing: that Ping is
    never sent again as it was, the back-off holds for any identical request, and pushing
    goes on with clean Pings."""
    srv = Server(tmp, scenario={"settings": {"ping_min": 1, "ping_max": 10,
                                             "ping_scale": 0.05}})
    try:
        srv.faults({"command": "Ping", "nth": 2, "type": "status", "status": 4})
        c = Client(tmp, OPT.sync, srv.url, device="ping4", extra=["--push", "12"])
        run = c.run(timeout_s=40)
        assert_complete(run)
        pings = srv.requests(command="Ping")
        bad = [i for i, r in enumerate(pings) if r.get("eas_status") == 4]
        check(len(bad) == 1, "Ping Status 4 fired %d times", len(bad))
        body = pings[bad[0]].get("body_xml")
        again = [r["seq"] for r in pings[bad[0] + 1:] if r.get("body_xml") == body]
        check(not again, "the Ping refused with Status 4 was resent as it was: seq %s", again)
        check(any(r.get("eas_status") in (1, 2) for r in pings[bad[0] + 1:]),
              "no clean Ping after the Status 4: %s",
              [(r["seq"], r.get("eas_status")) for r in pings])
        assert_no_tight_repeat(srv.requests(), OPT.backoff_min_ms / 2000.0)
        print("  %d Pings, Status 4 on #%d, never resent as it was" % (len(pings),
                                                                     bad[0] + 1))
    finally:
        srv.close()


def main():
    global OPT
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sync", help="eas-sync binary")
    ap.add_argument("--agenda", help="eas-agenda binary")
    ap.add_argument("--outbox-max-attempts", type=int, default=5,
                    help="CONFIG_EAS_OUTBOX_MAX_ATTEMPTS of the build")
    ap.add_argument("--provision-retries", type=int, default=3,
                    help="CONFIG_EAS_PROVISION_RETRIES of the build")
    ap.add_argument("--backoff-min-ms", type=int, default=2000,
                    help="CONFIG_EAS_BACKOFF_MIN_MS of the build")
    ap.add_argument("--kills", type=int, default=100, help="power-loss kills")
    ap.add_argument("--power-items", type=int, default=2000,
                    help="--generate N for the power-loss mailbox")
    ap.add_argument("--outbox-items", type=int, default=500,
                    help="generated items per class for power_loss_outbox")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("tests", nargs="*")
    OPT = ap.parse_args()
    if OPT.list:
        for name, fn in TESTS.items():
            print("%-32s %s" % (name, (fn.__doc__ or "").strip().split("\n")[0]))
        return 0
    if not OPT.sync or not OPT.tests:
        ap.error("--sync and at least one TEST are needed")
    names = list(TESTS) if OPT.tests == ["all"] else OPT.tests
    failed = []
    for name in names:
        if name not in TESTS:
            print("unknown test %s" % name)
            return 2
        tmp = new_tmp(name)
        t0 = time.monotonic()
        print("--- %s" % name, flush=True)
        ok = False
        try:
            TESTS[name](tmp)
            ok = True
        except Failure as e:
            print("FAIL %s: %s" % (name, e))
        except Exception:
            traceback.print_exc()
            print("FAIL %s: exception" % name)
        print("%s %s (%.1f s)%s" % ("ok  " if ok else "FAIL", name, time.monotonic() - t0,
                                   "" if ok else "  [files in %s]" % tmp), flush=True)
        cleanup(tmp, ok)
        if not ok:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
