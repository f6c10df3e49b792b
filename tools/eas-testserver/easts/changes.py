# SPDX-License-Identifier: Apache-2.0
"""Server-side changes injected by the control endpoint or a scenario ("inject" faults).

Each change is a dict with "op" and its arguments; apply() returns a result dict (ids).
"""
import datetime

from .store import compact_now, eas_now


class ChangeError(ValueError):
    pass


def _user(store, spec):
    name = spec.get("user")
    if name:
        if name not in store.users:
            raise ChangeError("unknown user %r" % name)
        return store.users[name]
    if not store.users:
        raise ChangeError("no users")
    return next(iter(store.users.values()))


def _folder(store, user, spec, default_type=None):
    fid = spec.get("folder")
    if fid is not None:
        fid = str(fid)
        if fid in user.folders:
            return user.folders[fid]
        for f in user.folders.values():
            if f.name.lower() == fid.lower():
                return f
        raise ChangeError("unknown folder %r" % fid)
    if default_type is not None:
        f = store.folder_by_type(user, default_type)
        if f is not None:
            return f
    raise ChangeError("no folder given")


def _find(store, user, spec):
    sid = str(spec.get("server_id", ""))
    folder, item = store.find_item(user, sid)
    if item is None:
        raise ChangeError("unknown item %r" % sid)
    return folder, item


def _parse_compact(s):
    return datetime.datetime.strptime(s, "%Y%m%dT%H%M%SZ")


def _fmt_compact(d):
    return d.strftime("%Y%m%dT%H%M%SZ")


def apply(store, spec):
    op = spec.get("op")
    with store.lock:
        user = _user(store, spec)
        if op == "new_mail":
            folder = _folder(store, user, spec, 2)
            data = {"Subject": spec.get("subject", "New message"),
                    "From": spec.get("from", "sender@example.test"),
                    "To": spec.get("to", user.email),
                    "DateReceived": spec.get("date", eas_now()),
                    "Read": int(spec.get("read", 0)), "Importance": 1,
                    "MessageClass": "IPM.Note",
                    "_text": spec.get("text", "Hello from eas-testserver.")}
            if spec.get("html") is not None:
                data["_html"] = spec["html"]
            if spec.get("attachments"):
                data["_attachments"] = spec["attachments"]
            if spec.get("mime"):
                data["_mime"] = spec["mime"]
            item = store.add_item(user, folder.id, data, "Email")
            return {"server_id": item.sid, "folder": folder.id}
        if op == "add_item":
            folder = _folder(store, user, spec)
            item = store.add_item(user, folder.id, dict(spec.get("data", {})), spec.get("class"))
            return {"server_id": item.sid, "folder": folder.id}
        if op == "change_item":
            folder, item = _find(store, user, spec)
            store.change_item(user, folder.id, item.sid, dict(spec.get("set", {})))
            for k in spec.get("unset", []):
                item.data.pop(k, None)
            return {"server_id": item.sid, "folder": folder.id}
        if op == "delete_item":
            folder, item = _find(store, user, spec)
            store.delete_item(user, folder.id, item.sid)
            return {"server_id": item.sid, "folder": folder.id}
        if op == "move_item":
            folder, item = _find(store, user, spec)
            dst = _folder(store, user, {"folder": spec.get("to_folder")})
            new = store.move_item(user, folder.id, dst.id, item.sid)
            return {"server_id": new.sid, "folder": dst.id}
        if op == "move_meeting":
            folder, item = _find(store, user, spec)
            upd = {"DtStamp": compact_now()}
            if "start" in spec:
                upd["StartTime"] = spec["start"]
                upd["EndTime"] = spec.get("end", spec["start"])
            else:
                delta = datetime.timedelta(minutes=int(spec.get("shift_minutes", 60)))
                upd["StartTime"] = _fmt_compact(_parse_compact(item.data["StartTime"]) + delta)
                upd["EndTime"] = _fmt_compact(_parse_compact(item.data["EndTime"]) + delta)
            store.change_item(user, folder.id, item.sid, upd)
            return {"server_id": item.sid, "folder": folder.id, "StartTime": upd["StartTime"],
                    "EndTime": upd["EndTime"]}
        if op == "cancel_occurrence":
            folder, item = _find(store, user, spec)
            occ = spec.get("occurrence")
            if not occ:
                raise ChangeError("cancel_occurrence needs 'occurrence' (ExceptionStartTime)")
            exc = list(item.data.get("Exceptions", []))
            exc = [e for e in exc if e.get("ExceptionStartTime") != occ]
            exc.append({"ExceptionStartTime": occ, "Deleted": 1})
            store.change_item(user, folder.id, item.sid,
                              {"Exceptions": exc, "DtStamp": compact_now()})
            return {"server_id": item.sid, "folder": folder.id}
        if op == "add_folder":
            f = store.add_folder(user, spec.get("name", "New folder"), int(spec.get("type", 12)),
                                 str(spec.get("parent", "0")), spec.get("id"))
            return {"folder": f.id}
        if op == "delete_folder":
            f = _folder(store, user, spec)
            return {"deleted": store.delete_folder(user, f.id)}
        if op == "rename_folder":
            f = _folder(store, user, spec)
            store.update_folder(user, f.id, spec.get("name"), spec.get("parent"))
            return {"folder": f.id}
        raise ChangeError("unknown op %r" % op)
