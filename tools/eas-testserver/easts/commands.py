# SPDX-License-Identifier: Apache-2.0
"""EAS command handlers. Each takes (server, ctx) and returns a Reply.

ctx carries the parsed request (user, device, version, query, decoded body) and the fault
actions that apply to this request (ctx.faults: list of dicts), so command-level faults
(MoreAvailable with a repeated key, duplicate changes, ...) are applied where the response
is built.
"""
import base64
import copy
import email
import email.policy
import email.utils
import time

from . import items as itm
from .store import SPECIAL_TYPES, compact_now, eas_now
from .wbxml import Element, WbxmlError

WBXML_TYPE = "application/vnd.ms-sync.wbxml"


class Reply:
    def __init__(self, status=200, root=None, body=b"", content_type=WBXML_TYPE, headers=None,
                 eas_status=None):
        self.status = status
        self.root = root
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}
        self.eas_status = eas_status


def status_reply(ns, root_name, status, extra=None):
    root = Element(ns, root_name)
    root.add("Status", str(status))
    for name, value in (extra or []):
        root.add(name, str(value))
    return Reply(root=root, eas_status=status)


ROOTS = {
    "Sync": ("AirSync", "Sync"), "FolderSync": ("FolderHierarchy", "FolderSync"),
    "FolderCreate": ("FolderHierarchy", "FolderCreate"),
    "FolderDelete": ("FolderHierarchy", "FolderDelete"),
    "FolderUpdate": ("FolderHierarchy", "FolderUpdate"),
    "GetItemEstimate": ("GetItemEstimate", "GetItemEstimate"),
    "MoveItems": ("Move", "MoveItems"), "MeetingResponse": ("MeetingResponse", "MeetingResponse"),
    "Ping": ("Ping", "Ping"), "Provision": ("Provision", "Provision"),
    "Settings": ("Settings", "Settings"), "ItemOperations": ("ItemOperations", "ItemOperations"),
    "SendMail": ("ComposeMail", "SendMail"), "SmartReply": ("ComposeMail", "SmartReply"),
    "SmartForward": ("ComposeMail", "SmartForward"), "Search": ("Search", "Search"),
    "ResolveRecipients": ("ResolveRecipients", "ResolveRecipients"),
    "ValidateCert": ("ValidateCert", "ValidateCert"),
}


def fault_of(ctx, ftype, collection=None):
    for f in ctx.faults:
        if f.get("type") == ftype:
            want = f.get("collection")
            if collection is None or want is None or str(want) == str(collection):
                return f
    return None


# ======================================================================================
# Provision


def provision_doc(policy):
    doc = Element("Provision", "EASProvisionDoc")
    for key, value in policy.items():
        doc.add(key, "" if value is None else str(value))
    return doc


def cmd_provision(srv, ctx):
    st = srv.store
    dev = ctx.device
    body = ctx.body
    root = Element("Provision", "Provision")
    if body is None:
        return status_reply("Provision", "Provision", 2)
    devinfo = body.find("DeviceInformation", "Settings")
    if devinfo is not None:
        s = devinfo.find("Set")
        if s is not None:
            dev.info.update({c.name: c.value() for c in s.children})
        if ctx.version >= 14.1:
            di = root.add("DeviceInformation", ns="Settings")
            di.add("Status", "1")
    wipe_ack = body.find("RemoteWipe") or body.find("AccountOnlyRemoteWipe")
    if wipe_ack is not None:
        dev.wipe = "acked"
        dev.wipe_status = wipe_ack.findtext("Status", "1")
        root.add("Status", "1")
        return Reply(root=root, eas_status=1)
    if dev.wipe in ("pending", "account_pending"):
        root.add("Status", "1")
        if dev.wipe == "account_pending" and ctx.version >= 16.1:
            root.add("AccountOnlyRemoteWipe")
        else:
            root.add("RemoteWipe")
        return Reply(root=root, eas_status=1)
    policies = body.find("Policies")
    policy = policies.find("Policy") if policies is not None else None
    if policy is None:
        return status_reply("Provision", "Provision", 2)
    ptype = policy.findtext("PolicyType", "")
    root.add("Status", "1")
    out_pol = root.add("Policies").add("Policy")
    out_pol.add("PolicyType", ptype)
    if ptype != "MS-EAS-Provisioning-WBXML":
        out_pol.add("Status", "3")
        return Reply(root=root, eas_status=1)
    key = policy.findtext("PolicyKey")
    if key is None:
        # phase 1: hand out a temporary key and the policy document
        dev.temp_key = st.new_policy_key()
        out_pol.add("Status", "1")
        out_pol.add("PolicyKey", dev.temp_key)
        out_pol.add("Data").append(provision_doc(st.policy))
        return Reply(root=root, eas_status=1)
    # phase 2: acknowledgement of the temporary key
    if key != dev.temp_key:
        out_pol.add("Status", "5")
        return Reply(root=root, eas_status=1)
    dev.ack_status = policy.findtext("Status", "1")
    dev.policy_key = st.new_policy_key()
    dev.temp_key = None
    out_pol.add("Status", "1")
    out_pol.add("PolicyKey", dev.policy_key)
    return Reply(root=root, eas_status=1)


# ======================================================================================
# FolderSync / FolderCreate / FolderDelete / FolderUpdate


def _hier_view(user):
    return {f.id: list(f.hier_tuple()) for f in user.folders.values()}


def _check_hier_key(srv, dev, key):
    if key == "0" or dev.hier is None:
        return None
    return dev.hier.view_for(key)


def cmd_foldersync(srv, ctx):
    user, dev = ctx.user, ctx.device
    body = ctx.body
    if body is None:
        return status_reply("FolderHierarchy", "FolderSync", 10)
    key = body.findtext("SyncKey", "")
    if key == "0":
        dev.hier = srv.store.new_state()
        view = {}
    else:
        view = _check_hier_key(srv, dev, key)
        if view is None:
            return status_reply("FolderHierarchy", "FolderSync", 9)
    cur = _hier_view(user)
    adds = [fid for fid in cur if fid not in view]
    updates = [fid for fid in cur if fid in view and list(view[fid]) != cur[fid]]
    deletes = [fid for fid in view if fid not in cur]
    root = Element("FolderHierarchy", "FolderSync")
    root.add("Status", "1")
    if adds or updates or deletes or key == "0" or key != dev.hier.current:
        newkey = dev.hier.commit(cur)
    else:
        newkey = key
    root.add("SyncKey", newkey)
    ch = root.add("Changes")
    ch.add("Count", str(len(adds) + len(updates) + len(deletes)))
    for fid in updates:
        f = user.folders[fid]
        u = ch.add("Update")
        u.add("ServerId", f.id)
        u.add("ParentId", f.parent)
        u.add("DisplayName", f.name)
        u.add("Type", str(f.type))
    for fid in deletes:
        ch.add("Delete").add("ServerId", fid)
    for fid in adds:
        f = user.folders[fid]
        a = ch.add("Add")
        a.add("ServerId", f.id)
        a.add("ParentId", f.parent)
        a.add("DisplayName", f.name)
        a.add("Type", str(f.type))
    return Reply(root=root, eas_status=1)


def _folder_op_key(srv, ctx, root_name):
    key = ctx.body.findtext("SyncKey", "") if ctx.body is not None else ""
    dev = ctx.device
    if dev.hier is None or dev.hier.view_for(key) is None:
        return None, status_reply("FolderHierarchy", root_name, 9)
    return key, None


def _commit_hier_with(dev, user, fid, present):
    view = dev.hier.keys.get(dev.hier.current, {})
    view = dict(view)
    if present:
        view[fid] = list(user.folders[fid].hier_tuple())
    else:
        view.pop(fid, None)
    return dev.hier.commit(view)


def cmd_foldercreate(srv, ctx):
    user, dev = ctx.user, ctx.device
    if ctx.body is None:
        return status_reply("FolderHierarchy", "FolderCreate", 10)
    key, err = _folder_op_key(srv, ctx, "FolderCreate")
    if err:
        return err
    parent = ctx.body.findtext("ParentId", "0")
    name = ctx.body.findtext("DisplayName", "")
    ftype = ctx.body.findtext("Type", "1")
    if parent != "0" and parent not in user.folders:
        return status_reply("FolderHierarchy", "FolderCreate", 5)
    if not name:
        return status_reply("FolderHierarchy", "FolderCreate", 10)
    for f in user.folders.values():
        if f.parent == parent and f.name == name:
            return status_reply("FolderHierarchy", "FolderCreate", 2)
    folder = srv.store.add_folder(user, name, int(ftype), parent)
    newkey = _commit_hier_with(dev, user, folder.id, True)
    root = Element("FolderHierarchy", "FolderCreate")
    root.add("Status", "1")
    root.add("SyncKey", newkey)
    root.add("ServerId", folder.id)
    return Reply(root=root, eas_status=1)


def cmd_folderdelete(srv, ctx):
    user, dev = ctx.user, ctx.device
    if ctx.body is None:
        return status_reply("FolderHierarchy", "FolderDelete", 10)
    key, err = _folder_op_key(srv, ctx, "FolderDelete")
    if err:
        return err
    fid = ctx.body.findtext("ServerId", "")
    folder = user.folders.get(fid)
    if folder is None:
        return status_reply("FolderHierarchy", "FolderDelete", 4)
    if folder.type in SPECIAL_TYPES:
        return status_reply("FolderHierarchy", "FolderDelete", 3)
    victims = srv.store.delete_folder(user, fid)
    view = dict(dev.hier.keys.get(dev.hier.current, {}))
    for v in victims:
        view.pop(v, None)
        dev.folders.pop(v, None)
    newkey = dev.hier.commit(view)
    root = Element("FolderHierarchy", "FolderDelete")
    root.add("Status", "1")
    root.add("SyncKey", newkey)
    return Reply(root=root, eas_status=1)


def cmd_folderupdate(srv, ctx):
    user, dev = ctx.user, ctx.device
    if ctx.body is None:
        return status_reply("FolderHierarchy", "FolderUpdate", 10)
    key, err = _folder_op_key(srv, ctx, "FolderUpdate")
    if err:
        return err
    fid = ctx.body.findtext("ServerId", "")
    parent = ctx.body.findtext("ParentId", None)
    name = ctx.body.findtext("DisplayName", None)
    folder = user.folders.get(fid)
    if folder is None:
        return status_reply("FolderHierarchy", "FolderUpdate", 4)
    if folder.type in SPECIAL_TYPES:
        return status_reply("FolderHierarchy", "FolderUpdate", 2)
    if parent not in (None, "0") and parent not in user.folders:
        return status_reply("FolderHierarchy", "FolderUpdate", 5)
    for f in user.folders.values():
        if f.id != fid and f.parent == (parent or folder.parent) and f.name == name:
            return status_reply("FolderHierarchy", "FolderUpdate", 2)
    srv.store.update_folder(user, fid, name, parent)
    newkey = _commit_hier_with(dev, user, fid, True)
    root = Element("FolderHierarchy", "FolderUpdate")
    root.add("Status", "1")
    root.add("SyncKey", newkey)
    return Reply(root=root, eas_status=1)


# ======================================================================================
# Sync


def parse_options(opts):
    """BodyPreference list etc. from an Options element (AirSync)."""
    res = {"prefs": [], "conflict": 1, "mime_support": 0, "filter": 0}
    if opts is None:
        return res
    for bp in opts.findall("BodyPreference", "AirSyncBase"):
        p = {"type": int(bp.findtext("Type", "1") or 1)}
        if bp.find("TruncationSize") is not None:
            p["truncation"] = int(bp.findtext("TruncationSize") or 0)
        if bp.findtext("AllOrNone") == "1":
            p["allornone"] = True
        if bp.find("Preview") is not None:
            p["preview"] = int(bp.findtext("Preview") or 0)
        res["prefs"].append(p)
    if opts.find("Conflict") is not None:
        res["conflict"] = int(opts.findtext("Conflict") or 1)
    if opts.find("MIMESupport") is not None:
        res["mime_support"] = int(opts.findtext("MIMESupport") or 0)
    if opts.find("FilterType") is not None:
        res["filter"] = int(opts.findtext("FilterType") or 0)
    return res


def _appdata_el(item, ctx, opts, folder_id):
    ad = Element("AirSync", "ApplicationData")
    ad.children = itm.to_appdata(item, ctx.version, opts["prefs"], folder_id)
    return ad


def _server_changes(srv, ctx, folder, view, window, opts):
    """Commands for the device (Add/Change/Delete), at most window of them."""
    cmds = []
    more = False
    for sid, item in folder.items.items():
        if sid in view and view[sid] == item.version:
            continue
        if len(cmds) >= window:
            more = True
            break
        kind = "Change" if sid in view else "Add"
        cmds.append((kind, sid, item))
        view[sid] = item.version
    if not more:
        for sid in list(view):
            if sid in folder.items:
                continue
            if len(cmds) >= window:
                more = True
                break
            cmds.append(("Delete", sid, None))
            del view[sid]
    return cmds, more


def _emit_commands(coll_out, cmds, ctx, opts, folder_id):
    if not cmds:
        return
    commands = Element("AirSync", "Commands")
    for kind, sid, item in cmds:
        c = commands.add(kind)
        c.add("ServerId", sid)
        if kind in ("Add", "Change"):
            c.append(_appdata_el(item, ctx, opts, folder_id))
    coll_out.append(commands)


def _occurrence(item, instance_id, data):
    """The series' Exceptions with the occurrence that started at instance_id (16.x
    InstanceId, 2025-04-25T14:00:00.000Z) replaced by data."""
    start = instance_id.split(".")[0].rstrip("Z").replace("-", "").replace(":", "") + "Z"
    exc = [dict(e) for e in item.data.get("Exceptions") or []
           if e.get("ExceptionStartTime") != start]
    exc.append(dict(data, ExceptionStartTime=start))
    return exc


def _apply_client_commands(srv, ctx, folder, view, commands, opts, state, deletes_as_moves):
    """Apply Add/Change/Delete/Fetch from the device; returns the Responses element."""
    st = srv.store
    user = ctx.user
    responses = Element("AirSync", "Responses")
    idmap = state.__dict__.setdefault("client_ids", {})
    item_faults = [f for f in ctx.faults if f.get("type") == "item_status"]
    for cmd in commands.children:
        forced = next((f for f in item_faults if f.get("op", cmd.name) == cmd.name), None)
        if forced is not None and cmd.name in ("Add", "Change", "Delete"):
            # Per-item status without applying the command (fault item_status).
            r = responses.add(cmd.name)
            if cmd.name == "Add" and cmd.findtext("ClientId", ""):
                r.add("ClientId", cmd.findtext("ClientId", ""))
            if cmd.name != "Add":
                r.add("ServerId", cmd.findtext("ServerId", ""))
            r.add("Status", str(int(forced["status"])))
            continue
        if cmd.name == "Add":
            cid = cmd.findtext("ClientId", "")
            r = responses.add("Add")
            if cid:
                r.add("ClientId", cid)
            ad = cmd.find("ApplicationData")
            if ad is None:
                r.add("Status", "6")
                continue
            if cid and cid in idmap and idmap[cid] in folder.items:
                sid = idmap[cid]  # a resent Add: same item, no duplicate
            else:
                data = itm.from_appdata(ad, folder.cls)
                item = st.add_item(user, folder.id, data, folder.cls)
                sid = item.sid
                if cid:
                    idmap[cid] = sid
            view[sid] = folder.items[sid].version
            r.add("ServerId", sid)
            r.add("Status", "1")
        elif cmd.name == "Change":
            sid = cmd.findtext("ServerId", "")
            ad = cmd.find("ApplicationData")
            if sid not in folder.items:
                r = responses.add("Change")
                r.add("ServerId", sid)
                r.add("Status", "8")
                continue
            item = folder.items[sid]
            if view.get(sid) != item.version and opts["conflict"] != 0:
                r = responses.add("Change")
                r.add("ServerId", sid)
                r.add("Status", "7")
                continue
            data = itm.from_appdata(ad, folder.cls) if ad is not None else {}
            inst = cmd.findtext("InstanceId", None, "AirSyncBase")
            if inst and folder.cls == "Calendar":
                # 16.x: one occurrence changes; it becomes an Exception of the series.
                data = {"Exceptions": _occurrence(item, inst, data)}
            item = st.change_item(user, folder.id, sid, data)
            view[sid] = item.version
        elif cmd.name in ("Delete", "SoftDelete"):
            sid = cmd.findtext("ServerId", "")
            if sid not in folder.items:
                r = responses.add("Delete")
                r.add("ServerId", sid)
                r.add("Status", "8")
                view.pop(sid, None)
                continue
            inst = cmd.findtext("InstanceId", None, "AirSyncBase")
            if inst and folder.cls == "Calendar":
                # 16.x: one occurrence goes (a deleted Exception), the series stays.
                exc = _occurrence(folder.items[sid], inst, {"Deleted": "1"})
                view[sid] = st.change_item(user, folder.id, sid, {"Exceptions": exc}).version
                continue
            trash = st.folder_by_type(user, 4)
            if deletes_as_moves and folder.cls == "Email" and trash is not None \
                    and trash.id != folder.id:
                st.move_item(user, folder.id, trash.id, sid)
            else:
                st.delete_item(user, folder.id, sid)
            view.pop(sid, None)
        elif cmd.name == "Fetch":
            sid = cmd.findtext("ServerId", "")
            r = responses.add("Fetch")
            r.add("ServerId", sid)
            item = folder.items.get(sid)
            if item is None:
                r.add("Status", "8")
                continue
            r.add("Status", "1")
            r.append(_appdata_el(item, ctx, opts, folder.id))
    return responses if responses.children else None


def _inject_double_change(srv, ctx, folder, view, fault):
    """Two Change commands for one item in this response (the second one wins)."""
    user = ctx.user
    target = fault.get("server_id")
    item = folder.items.get(target) if target else None
    if item is None:
        for sid in folder.items:
            if sid in view:
                item = folder.items[sid]
                break
    if item is None:
        return []
    base = item.data.get("Subject", "")
    first = dict(item.data)
    first["Subject"] = base + " [change 1]"
    second = dict(item.data)
    second["Subject"] = base + " [change 2]"
    if folder.cls == "Calendar":
        first["DtStamp"] = compact_now()
        second["DtStamp"] = compact_now(-86400) if fault.get("older_dtstamp", True) \
            else compact_now()
    srv.store.change_item(user, folder.id, item.sid, first)
    snap = itm_copy(folder.items[item.sid])
    srv.store.change_item(user, folder.id, item.sid, second)
    final = folder.items[item.sid]
    view[item.sid] = final.version
    return [("Change", item.sid, snap), ("Change", item.sid, final)]


def itm_copy(item):
    from .store import Item
    return Item(item.sid, item.cls, copy.deepcopy(item.data), item.version)


def _stale_change_first(srv, ctx, folder, view, fault, state):
    """First half of 'older DtStamp on the later change': change now, queue the second."""
    target = fault.get("server_id")
    item = folder.items.get(target) if target else None
    if item is None:
        for sid in folder.items:
            if sid in view:
                item = folder.items[sid]
                break
    if item is None:
        return
    base = item.data.get("Subject", "")
    data = {"Subject": base + " [stale-test v1]"}
    if folder.cls == "Calendar":
        data["DtStamp"] = compact_now()
    srv.store.change_item(ctx.user, folder.id, item.sid, data)
    state.__dict__["stale_pending"] = (item.sid, base)


def _stale_change_second(srv, ctx, folder, state):
    pending = state.__dict__.pop("stale_pending", None)
    if not pending or pending[0] not in folder.items:
        return
    sid, base = pending
    data = {"Subject": base + " [stale-test v2]"}
    if folder.cls == "Calendar":
        data["DtStamp"] = compact_now(-7 * 86400)
    srv.store.change_item(ctx.user, folder.id, sid, data)


def cmd_sync(srv, ctx):
    st = srv.store
    dev = ctx.device
    body = ctx.body
    top = fault_of(ctx, "status")
    if top is not None and top.get("level", "auto") in ("top", "auto") and \
            (top.get("level") == "top" or int(top["status"]) not in (3, 4, 5, 6, 7, 8, 9)):
        return status_reply("AirSync", "Sync", top["status"])
    if body is None:
        cached = dev.last_sync.get("collections")
        if not cached:
            return status_reply("AirSync", "Sync", 13)
        body = cached
    else:
        colls = body.find("Collections")
        if colls is not None:
            dev.last_sync["collections"] = copy.deepcopy(body)
        elif dev.last_sync.get("collections") is not None:
            # partial request (Wait/HeartbeatInterval only): reuse the cached collections
            merged = copy.deepcopy(dev.last_sync["collections"])
            for c in body.children:
                old = merged.find(c.name)
                if old is not None:
                    merged.children.remove(old)
                merged.children.append(c)
            body = merged
    colls = body.find("Collections")
    if colls is None:
        return status_reply("AirSync", "Sync", 4)
    global_window = int(body.findtext("WindowSize", "0") or 0)
    wait = body.findtext("Wait")
    hb = body.findtext("HeartbeatInterval")
    wait_s = int(wait) * 60 if wait else (int(hb) if hb else 0)

    def build():
        root = Element("AirSync", "Sync")
        out_colls = root.add("Collections")
        any_change = False
        for coll in colls.findall("Collection"):
            out, changed = _sync_collection(srv, ctx, coll, global_window)
            any_change = any_change or changed
            out_colls.append(out)
        return root, any_change

    with st.lock:
        root, any_change = build()
        if wait_s and not any_change:
            deadline = time.monotonic() + wait_s * srv.config.get("ping_scale", 1.0)
            start_seq = st.seq
            while time.monotonic() < deadline and st.seq == start_seq:
                st.cond.wait(deadline - time.monotonic())
            if st.seq == start_seq:
                return Reply(root=None, body=b"")
            root, any_change = build()
    return Reply(root=root, eas_status=1)


def _sync_collection(srv, ctx, coll, global_window):
    st = srv.store
    user, dev = ctx.user, ctx.device
    key = coll.findtext("SyncKey", "")
    fid = coll.findtext("CollectionId", "")
    out = Element("AirSync", "Collection")
    folder = user.folders.get(fid)
    if ctx.version < 14.0 and folder is not None:
        out.add("Class", folder.cls)
    out.add("SyncKey", key)
    out.add("CollectionId", fid)
    if folder is None:
        out.add("Status", "8")
        return out, False
    fault = fault_of(ctx, "status", fid)
    if fault is not None:
        code = int(fault["status"])
        if code == 3:
            out.find("SyncKey").text = "0"
            if fault.get("reset_state", True):
                dev.folders.pop(fid, None)
        out.add("Status", str(code))
        return out, False
    opts = parse_options(coll.find("Options"))
    window = int(coll.findtext("WindowSize", "0") or 0) or global_window or 100
    window = max(1, min(window, 512))
    if key == "0":
        state = st.new_state()
        old = dev.folders.get(fid)
        if old is not None and "client_ids" in old.__dict__:
            state.client_ids = old.client_ids
        dev.folders[fid] = state
        newkey = state.commit({})
        out.find("SyncKey").text = newkey
        out.add("Status", "1")
        return out, False
    state = dev.folders.get(fid)
    view = state.view_for(key) if state is not None else None
    if view is None:
        out.find("SyncKey").text = "0"
        out.add("Status", "3")
        return out, False
    _stale_change_second(srv, ctx, folder, state)
    responses = None
    commands = coll.find("Commands")
    dam = coll.findtext("DeletesAsMoves", "1") != "0"
    if commands is not None:
        responses = _apply_client_commands(srv, ctx, folder, view, commands, opts, state, dam)
    get_changes = coll.findtext("GetChanges")
    get_changes = get_changes != "0" if get_changes is not None else True
    if coll.find("GetChanges") is not None and coll.findtext("GetChanges") == "":
        get_changes = True
    cmds, more = [], False
    repeat = fault_of(ctx, "repeat_synckey", fid)
    dbl = fault_of(ctx, "double_change", fid)
    stale = fault_of(ctx, "stale_change", fid)
    if get_changes:
        if stale is not None:
            _stale_change_first(srv, ctx, folder, view, stale, state)
        extra = _inject_double_change(srv, ctx, folder, view, dbl) if dbl is not None else []
        cmds, more = _server_changes(srv, ctx, folder, view, window, opts)
        cmds = [c for c in cmds if not (extra and c[1] == extra[0][1])] + extra
    if repeat is not None:
        newkey = key
        more = True
    elif cmds or commands is not None or key != state.current:
        # Client commands always get a new key: a Change or Delete is applied without a
        # Response, and the view that records it must be the next key's.
        newkey = state.commit(view)
    else:
        newkey = key
    out.find("SyncKey").text = newkey
    out.add("Status", "1")
    if more:
        out.add("MoreAvailable")
    _emit_commands(out, cmds, ctx, opts, fid)
    if responses is not None:
        out.append(responses)
    return out, bool(cmds)


# ======================================================================================
# Ping


def cmd_ping(srv, ctx):
    st = srv.store
    user, dev = ctx.user, ctx.device
    cfg = srv.config
    lo, hi = cfg.get("ping_min", 60), cfg.get("ping_max", 3540)
    maxf = cfg.get("ping_max_folders", 300)
    forced = fault_of(ctx, "status")
    body = ctx.body
    interval = None
    folders = None
    if body is not None:
        if body.findtext("HeartbeatInterval"):
            interval = int(body.findtext("HeartbeatInterval"))
        fl = body.find("Folders")
        if fl is not None:
            folders = [(f.findtext("Id", ""), f.findtext("Class", "")) for f in
                       fl.findall("Folder")]
    cached = dev.ping or {}
    if interval is None:
        interval = cached.get("interval")
    if folders is None:
        folders = [tuple(x) for x in cached.get("folders", [])] or None
    if forced is not None:
        code = int(forced["status"])
        extra = []
        if code == 5:
            extra = [("HeartbeatInterval", forced.get("heartbeat", hi))]
        elif code == 6:
            extra = [("MaxFolders", forced.get("max_folders", maxf))]
        elif code == 2:
            root = Element("Ping", "Ping")
            root.add("Status", "2")
            fo = root.add("Folders")
            for fid in forced.get("folders") or [f[0] for f in (folders or [])]:
                fo.add("Folder", fid)
            return Reply(root=root, eas_status=2)
        return status_reply("Ping", "Ping", code, extra)
    if interval is None or not folders:
        return status_reply("Ping", "Ping", 3)
    if interval < lo:
        return status_reply("Ping", "Ping", 5, [("HeartbeatInterval", lo)])
    if interval > hi:
        return status_reply("Ping", "Ping", 5, [("HeartbeatInterval", hi)])
    if len(folders) > maxf:
        return status_reply("Ping", "Ping", 6, [("MaxFolders", maxf)])
    rejected = {str(r.get("folder")): int(r.get("status", 7)) for r in ctx.faults
                if r.get("type") == "ping_reject_folder"}
    rejected.update({str(k): int(v) for k, v in srv.rejected_ping_folders.items()})
    for fid, _cls in folders:
        if fid in rejected:
            return status_reply("Ping", "Ping", rejected[fid])
        if fid not in user.folders:
            return status_reply("Ping", "Ping", cfg.get("ping_unknown_folder_status", 7))
    dev.ping = {"interval": interval, "folders": [list(f) for f in folders]}
    dev.ping_generation = getattr(dev, "ping_generation", 0) + 1
    gen = dev.ping_generation
    scale = cfg.get("ping_scale", 1.0)
    deadline = time.monotonic() + interval * scale
    with st.lock:
        while True:
            if any(fid not in user.folders for fid, _ in folders):
                return status_reply("Ping", "Ping", 7)
            changed = [fid for fid, _ in folders if st.pending_changes(user, dev, fid)]
            if changed:
                root = Element("Ping", "Ping")
                root.add("Status", "2")
                fo = root.add("Folders")
                for fid in changed:
                    fo.add("Folder", fid)
                return Reply(root=root, eas_status=2)
            if getattr(dev, "ping_generation", gen) != gen:
                return status_reply("Ping", "Ping", 1)
            left = deadline - time.monotonic()
            if left <= 0 or srv.stopping:
                return status_reply("Ping", "Ping", 1)
            st.cond.wait(min(left, 1.0))


# ======================================================================================
# GetItemEstimate


def cmd_getitemestimate(srv, ctx):
    user, dev = ctx.user, ctx.device
    if ctx.body is None:
        return status_reply("GetItemEstimate", "GetItemEstimate", 2)
    root = Element("GetItemEstimate", "GetItemEstimate")
    colls = ctx.body.find("Collections")
    for coll in (colls.findall("Collection") if colls is not None else []):
        fid = coll.findtext("CollectionId", "")
        key = coll.findtext("SyncKey", None, "AirSync")
        resp = root.add("Response")
        folder = user.folders.get(fid)
        if folder is None:
            resp.add("Status", "2")
            continue
        state = dev.folders.get(fid)
        if key is None and state is not None:
            key = state.current
        if key == "0" or key is None:
            resp.add("Status", "3")
            continue
        view = state.view_for(key) if state is not None else None
        if view is None:
            resp.add("Status", "4")
            continue
        n = sum(1 for sid, it in folder.items.items() if view.get(sid) != it.version)
        n += sum(1 for sid in view if sid not in folder.items)
        resp.add("Status", "1")
        c = resp.add("Collection")
        c.add("CollectionId", fid)
        c.add("Estimate", str(n))
    return Reply(root=root, eas_status=1)


# ======================================================================================
# ItemOperations


def _parse_fileref(ref):
    parts = ref.split("|")
    if len(parts) != 3:
        return None
    try:
        return parts[0], parts[1], int(parts[2])
    except ValueError:
        return None


def cmd_itemoperations(srv, ctx):
    st = srv.store
    user = ctx.user
    if ctx.body is None:
        return status_reply("ItemOperations", "ItemOperations", 2)
    root = Element("ItemOperations", "ItemOperations")
    root.add("Status", "1")
    resp = root.add("Response")
    for op in ctx.body.children:
        if op.name == "Fetch":
            out = resp.add("Fetch")
            opts = parse_options(op.find("Options"))
            ref = op.findtext("FileReference", None, "AirSyncBase")
            if ref is not None:
                parsed = _parse_fileref(ref)
                folder = user.folders.get(parsed[0]) if parsed else None
                item = folder.items.get(parsed[1]) if folder else None
                atts = item.data.get("_attachments", []) if item else []
                if not parsed or not item or parsed[2] >= len(atts):
                    out.add("Status", "15")
                    out.add("FileReference", ref, ns="AirSyncBase")
                    continue
                att = atts[parsed[2]]
                out.add("Status", "1")
                out.add("FileReference", ref, ns="AirSyncBase")
                props = out.add("Properties")
                props.add("ContentType", att.get("content_type", "application/octet-stream"),
                          ns="AirSyncBase")
                props.add("Data", base64.b64encode(itm.attachment_bytes(att)).decode())
                continue
            fid = op.findtext("CollectionId", "", "AirSync")
            sid = op.findtext("ServerId", "", "AirSync")
            folder = user.folders.get(fid)
            if folder is None and sid:
                folder, _ = st.find_item(user, sid)
            item = folder.items.get(sid) if folder else None
            if item is None:
                out.add("Status", "6")
                out.add("CollectionId", fid, ns="AirSync")
                out.add("ServerId", sid, ns="AirSync")
                continue
            out.add("Status", "1")
            out.add("CollectionId", folder.id, ns="AirSync")
            out.add("ServerId", sid, ns="AirSync")
            out.add("Class", item.cls, ns="AirSync")
            props = out.add("Properties")
            props.children = itm.to_appdata(item, ctx.version, opts["prefs"], folder.id)
        elif op.name == "EmptyFolderContents":
            out = resp.add("EmptyFolderContents")
            fid = op.findtext("CollectionId", "", "AirSync")
            folder = user.folders.get(fid)
            if folder is None:
                out.add("Status", "6")
                continue
            for sid in list(folder.items):
                st.delete_item(user, fid, sid)
            out.add("Status", "1")
            out.add("CollectionId", fid, ns="AirSync")
        else:
            out = resp.add(op.name) if op.name in ("Move",) else None
            if out is not None:
                out.add("Status", "2")
    return Reply(root=root, eas_status=1)


# ======================================================================================
# MoveItems


def cmd_moveitems(srv, ctx):
    st = srv.store
    user = ctx.user
    if ctx.body is None:
        return status_reply("Move", "MoveItems", 5)
    root = Element("Move", "MoveItems")
    for mv in ctx.body.findall("Move"):
        sid = mv.findtext("SrcMsgId", "")
        src = mv.findtext("SrcFldId", "")
        dst = mv.findtext("DstFldId", "")
        r = root.add("Response")
        r.add("SrcMsgId", sid)
        if src not in user.folders or sid not in user.folders[src].items:
            r.add("Status", "1")
            continue
        if dst not in user.folders:
            r.add("Status", "2")
            continue
        if src == dst:
            r.add("Status", "4")
            continue
        item = st.move_item(user, src, dst, sid)
        r.add("Status", "3")
        r.add("DstMsgId", item.sid)
    return Reply(root=root, eas_status=3)


# ======================================================================================
# MeetingResponse


def goid_uid(goid):
    """The calendar UID a GlobalObjId (base64 MS-OXOCAL GlobalObjectId) stands for: the
    iCalendar UID of the "vCal-Uid" form, else the id in hex with the instance date zeroed
    (Exchange); anything else is taken as the UID itself."""
    try:
        raw = base64.b64decode(goid, validate=True)
    except (ValueError, TypeError):
        return goid
    if len(raw) < 40 or raw[:16] != bytes.fromhex("040000008200E00074C5B7101A82E008"):
        return goid
    if raw[40:52] == b"vCal-Uid\x01\x00\x00\x00":
        return raw[52:].rstrip(b"\x00 ").decode("utf-8", "replace")
    return (raw[:16] + b"\x00" * 4 + raw[20:]).hex().upper()


def cmd_meetingresponse(srv, ctx):
    st = srv.store
    user = ctx.user
    if ctx.body is None:
        return status_reply("MeetingResponse", "MeetingResponse", 2)
    root = Element("MeetingResponse", "MeetingResponse")
    for req in ctx.body.findall("Request"):
        resp = int(req.findtext("UserResponse", "0") or 0)
        fid = req.findtext("CollectionId", "")
        rid = req.findtext("RequestId", "")
        inst = req.findtext("InstanceId", None) or req.findtext("InstanceId", None, "AirSyncBase")
        out = root.add("Result")
        out.add("RequestId", rid)
        folder = user.folders.get(fid)
        item = folder.items.get(rid) if folder else None
        if item is None or resp not in (1, 2, 3):
            out.add("Status", "2")
            continue
        cal_item = None
        calendar = st.folder_by_type(user, 8)
        if item.cls == "Calendar":
            cal_item = item
        elif calendar is not None:
            uid = item.data.get("_calendar_uid") or \
                goid_uid((item.data.get("MeetingRequest") or {}).get("GlobalObjId") or "")
            for ci in calendar.items.values():
                if uid and (ci.data.get("UID") == uid or ci.data.get("_uid") == uid):
                    cal_item = ci
            if cal_item is None and resp in (1, 2):
                mr = item.data.get("MeetingRequest") or {}
                cal_item = st.add_item(user, calendar.id, {
                    "Subject": item.data.get("Subject", ""),
                    "StartTime": mr.get("StartTime", compact_now()),
                    "EndTime": mr.get("EndTime", compact_now(3600)),
                    "UID": uid or "", "MeetingStatus": 3, "ResponseType": 1 + resp,
                }, "Calendar")
        # Every response applied is logged; one the server already applied for the same
        # item is marked (only "accept" mode gets that far).
        dup = any(r["user"] == user.name and r["request_id"] == rid and
                  r["collection_id"] == fid and r["instance_id"] == inst
                  for r in st.meeting_responses)
        st.meeting_responses.append({"time": time.time(), "user": user.name,
                                     "device": ctx.device.id, "request_id": rid,
                                     "collection_id": fid, "user_response": resp,
                                     "instance_id": inst, "duplicate": dup})
        if cal_item is not None and not inst and calendar is not None \
                and cal_item.sid in calendar.items:
            # What real servers show: the reply as the item's ResponseType and as the
            # user's own AttendeeStatus (same values: 2 tentative, 3 accept, 4 decline).
            rt = {1: 3, 2: 2, 3: 4}[resp]
            change = {"ResponseType": rt}
            atts = cal_item.data.get("Attendees")
            if isinstance(atts, list):
                change["Attendees"] = [
                    dict(a, AttendeeStatus=rt)
                    if str(a.get("Email", "")).lower() == user.email.lower() else a
                    for a in atts]
            st.change_item(user, calendar.id, cal_item.sid, change)
        keep = srv.config.get("meeting_response_duplicates") == "accept"
        if item.cls == "Email" and folder is not None and rid in folder.items and not keep:
            trash = st.folder_by_type(user, 4)
            if trash is not None and trash.id != folder.id:
                st.move_item(user, folder.id, trash.id, rid)
        out.add("Status", "1")
        if resp in (1, 2) and cal_item is not None:
            out.add("CalendarId", cal_item.sid)
    return Reply(root=root, eas_status=1)


# ======================================================================================
# SendMail / SmartReply / SmartForward


def _deliver(srv, sender, mime_bytes, save_in_sent, cmd, extra):
    st = srv.store
    msg = email.message_from_bytes(mime_bytes, policy=email.policy.default)
    record = {"time": time.time(), "command": cmd, "user": sender.name,
              "from": str(msg.get("From", "")), "to": str(msg.get("To", "")),
              "cc": str(msg.get("Cc", "")), "subject": str(msg.get("Subject", "")),
              "save_in_sent": save_in_sent, "mime": mime_bytes.decode("utf-8", "replace")}
    record.update(extra)
    st.sent.append(record)
    data = {"Subject": str(msg.get("Subject", "")), "From": str(msg.get("From", sender.email)),
            "To": str(msg.get("To", "")), "DateReceived": eas_now(), "Read": 1,
            "_mime": mime_bytes.decode("utf-8", "replace")}
    if save_in_sent:
        sent = st.folder_by_type(sender, 5)
        if sent is not None:
            st.add_item(sender, sent.id, dict(data), "Email")
    rcpts = [a for _n, a in email.utils.getaddresses(
        [str(msg.get("To", "")), str(msg.get("Cc", "")), str(msg.get("Bcc", ""))])]
    for u in st.users.values():
        if any(a.lower() == u.email.lower() for a in rcpts):
            inbox = st.folder_by_type(u, 2)
            if inbox is not None:
                d = dict(data)
                d["Read"] = 0
                st.add_item(u, inbox.id, d, "Email")


def cmd_compose(srv, ctx):
    user = ctx.user
    cmd = ctx.cmd
    q = ctx.query
    extra = {}
    if ctx.body is None and ctx.raw_body:
        # 12.1 style: the body is the MIME message itself
        mime = ctx.raw_body
        save = q.get("SaveInSent", "F").upper() == "T" or q.get("_save_in_sent", False)
        extra = {"item_id": q.get("ItemId"), "collection_id": q.get("CollectionId"),
                 "client_id": None}
        if cmd != "SendMail" and q.get("ItemId") and \
                srv.store.find_item(user, q.get("ItemId"))[1] is None:
            return Reply(status=500, body=b"")
        _deliver(srv, user, mime, save, cmd, extra)
        return Reply(root=None, body=b"", eas_status=None)
    if ctx.body is None:
        return status_reply("ComposeMail", cmd, 103)
    mime_el = ctx.body.find("Mime")
    if mime_el is None:
        return status_reply("ComposeMail", cmd, 103)
    mime = mime_el.opaque if mime_el.opaque is not None else (mime_el.text or "").encode()
    client_id = ctx.body.findtext("ClientId")
    sent_ids = ctx.device.__dict__.setdefault("sent_client_ids", set())
    if client_id and client_id in sent_ids:
        return status_reply("ComposeMail", cmd, 118)
    save = ctx.body.find("SaveInSentItems") is not None
    source = ctx.body.find("Source")
    if source is not None:
        extra["source"] = {c.name: c.value() for c in source.children}
        sid = source.findtext("ItemId")
        if sid and srv.store.find_item(user, sid)[1] is None:
            return status_reply("ComposeMail", cmd, 150)
    extra["client_id"] = client_id
    extra["replace_mime"] = ctx.body.find("ReplaceMime") is not None
    _deliver(srv, user, mime, save, cmd, extra)
    if client_id:
        sent_ids.add(client_id)
    return Reply(root=None, body=b"", eas_status=None)


# ======================================================================================
# Settings


def cmd_settings(srv, ctx):
    user, dev = ctx.user, ctx.device
    if ctx.body is None:
        return status_reply("Settings", "Settings", 2)
    root = Element("Settings", "Settings")
    root.add("Status", "1")
    for part in ctx.body.children:
        if part.name == "DeviceInformation":
            s = part.find("Set")
            if s is not None:
                dev.info.update({c.name: c.value() for c in s.children})
                dev.info_settings += 1
            root.add("DeviceInformation").add("Status", "1")
        elif part.name == "UserInformation":
            ui = root.add("UserInformation")
            ui.add("Status", "1")
            g = ui.add("Get")
            if ctx.version >= 14.1:
                acc = g.add("Accounts").add("Account")
                acc.add("UserDisplayName", user.display_name)
                ea = acc.add("EmailAddresses")
                ea.add("SmtpAddress", user.email)
                ea.add("PrimarySmtpAddress", user.email)
            else:
                ea = g.add("EmailAddresses")
                ea.add("SmtpAddress", user.email)
        elif part.name == "Oof":
            oof = root.add("Oof")
            oof.add("Status", "1")
            if part.find("Get") is not None:
                g = oof.add("Get")
                g.add("OofState", user.oof.get("OofState", "0"))
            elif part.find("Set") is not None:
                user.oof = {c.name: c.value() for c in part.find("Set").children}
        elif part.name == "DevicePassword":
            root.add("DevicePassword").add("Status", "1")
        elif part.name == "RightsManagementInformation":
            rmi = root.add("RightsManagementInformation")
            rmi.add("Status", "1")
    return Reply(root=root, eas_status=1)


# ======================================================================================
# Search (GAL only) / ResolveRecipients / ValidateCert: minimal, for completeness


def cmd_search(srv, ctx):
    root = Element("Search", "Search")
    root.add("Status", "1")
    resp = root.add("Response")
    store = resp.add("Store")
    query = ctx.body.path("Store", "Query") if ctx.body is not None else None
    text = (query.value() if query is not None else "").lower()
    store.add("Status", "1")
    hits = [u for u in srv.store.users.values()
            if text and (text in u.name.lower() or text in u.email.lower()
                         or text in u.display_name.lower())]
    for u in hits:
        r = store.add("Result")
        p = r.add("Properties")
        p.add("DisplayName", u.display_name, ns="GAL")
        p.add("EmailAddress", u.email, ns="GAL")
    store.add("Range", "0-%d" % max(0, len(hits) - 1))
    store.add("Total", str(len(hits)))
    return Reply(root=root, eas_status=1)


def cmd_getattachment(srv, ctx):
    name = ctx.query.get("AttachmentName", "")
    parsed = _parse_fileref(name)
    folder = ctx.user.folders.get(parsed[0]) if parsed else None
    item = folder.items.get(parsed[1]) if folder else None
    atts = item.data.get("_attachments", []) if item else []
    if not parsed or item is None or parsed[2] >= len(atts):
        return Reply(status=500, body=b"")
    att = atts[parsed[2]]
    return Reply(body=itm.attachment_bytes(att),
                 content_type=att.get("content_type", "application/octet-stream"))


HANDLERS = {
    "Provision": cmd_provision, "FolderSync": cmd_foldersync, "FolderCreate": cmd_foldercreate,
    "FolderDelete": cmd_folderdelete, "FolderUpdate": cmd_folderupdate, "Sync": cmd_sync,
    "Ping": cmd_ping, "GetItemEstimate": cmd_getitemestimate,
    "ItemOperations": cmd_itemoperations, "MoveItems": cmd_moveitems,
    "MeetingResponse": cmd_meetingresponse, "SendMail": cmd_compose,
    "SmartReply": cmd_compose, "SmartForward": cmd_compose, "Settings": cmd_settings,
    "Search": cmd_search, "GetAttachment": cmd_getattachment,
}

__all__ = ["HANDLERS", "ROOTS", "Reply", "status_reply", "WbxmlError"]
