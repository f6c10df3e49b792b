# SPDX-License-Identifier: Apache-2.0
"""Mailbox model: users, folders, items, per-device sync state, policies, remote wipe.

Everything lives in memory behind one lock. Each mutation bumps a global sequence number
(item.version / folder.version) and wakes waiting Pings. A device's sync state per folder is
the server's view of what that device has: {ServerId: version it was last sent}. Changes
for a device are the difference between that view and the folder.
"""
import copy
import datetime
import json
import random
import threading
import uuid

from .items import FOLDER_CLASS

SPECIAL_TYPES = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 19}

DEFAULT_POLICY = {
    "DevicePasswordEnabled": 0,
    "AlphanumericDevicePasswordRequired": 0,
    "PasswordRecoveryEnabled": 0,
    "RequireStorageCardEncryption": 0,
    "AttachmentsEnabled": 1,
    "MinDevicePasswordLength": 4,
    "MaxInactivityTimeDeviceLock": 900,
    "MaxDevicePasswordFailedAttempts": 8,
    "MaxAttachmentSize": "",
    "AllowSimpleDevicePassword": 1,
    "DevicePasswordExpiration": "",
    "DevicePasswordHistory": 0,
    "AllowStorageCard": 1,
    "AllowCamera": 1,
    "RequireDeviceEncryption": 0,
    "AllowUnsignedApplications": 1,
    "AllowUnsignedInstallationPackages": 1,
    "MinDevicePasswordComplexCharacters": 1,
    "AllowWiFi": 1,
    "AllowTextMessaging": 1,
    "AllowPOPIMAPEmail": 1,
    "AllowBluetooth": 2,
    "AllowIrDA": 1,
    "RequireManualSyncWhenRoaming": 0,
    "AllowDesktopSync": 1,
    "MaxCalendarAgeFilter": 0,
    "AllowHTMLEmail": 1,
    "MaxEmailAgeFilter": 0,
    "MaxEmailBodyTruncationSize": -1,
    "MaxEmailHTMLBodyTruncationSize": -1,
    "RequireSignedSMIMEMessages": 0,
    "RequireEncryptedSMIMEMessages": 0,
    "RequireSignedSMIMEAlgorithm": 0,
    "RequireEncryptionSMIMEAlgorithm": 0,
    "AllowSMIMEEncryptionAlgorithmNegotiation": 2,
    "AllowSMIMESoftCerts": 1,
    "AllowBrowser": 1,
    "AllowConsumerEmail": 1,
    "AllowRemoteDesktop": 1,
    "AllowInternetSharing": 1,
}


class Item:
    __slots__ = ("sid", "cls", "data", "version")

    def __init__(self, sid, cls, data, version):
        self.sid = sid
        self.cls = cls
        self.data = data
        self.version = version

    def to_json(self):
        return {"id": self.sid, "class": self.cls, "data": self.data}


class Folder:
    def __init__(self, fid, name, ftype, parent="0", version=0):
        self.id = fid
        self.name = name
        self.type = int(ftype)
        self.parent = parent
        self.items = {}  # insertion-ordered ServerId -> Item
        self.version = version
        self.next_item = 1

    @property
    def cls(self):
        return FOLDER_CLASS.get(self.type, "Email")

    def hier_tuple(self):
        return (self.name, self.parent, self.type)


class SyncState:
    """Sync keys and the device view they stand for. The current and the previous key are
    both accepted (a client that lost a response resends the previous key)."""

    def __init__(self, style, prefix):
        self.style = style
        self.prefix = prefix
        self.counter = 0
        self.keys = {}  # key -> view snapshot (dict)
        self.current = None
        self.previous = None

    def make_key(self):
        self.counter += 1
        if self.style == "numeric":
            return str(self.counter)
        return "{%s}%d" % (self.prefix, self.counter)

    def commit(self, view):
        key = self.make_key()
        self.keys[key] = copy.copy(view)
        if self.previous is not None and self.previous in self.keys:
            del self.keys[self.previous]
        self.previous = self.current
        self.current = key
        return key

    def view_for(self, key):
        """A copy of the view for key, or None when the key is unknown."""
        if key in self.keys:
            return copy.copy(self.keys[key])
        return None

    def replace_current(self, view):
        """Update the view of the current key (client commands applied in place)."""
        if self.current is not None:
            self.keys[self.current] = copy.copy(view)


class Device:
    def __init__(self, device_id, device_type, user):
        self.id = device_id
        self.type = device_type
        self.user = user
        self.policy_key = None      # final key, after acknowledgement
        self.temp_key = None        # issued in phase 1
        self.wipe = None            # None | "pending" | "account_pending" | "acked"
        self.hier = None            # SyncState for the folder hierarchy
        self.folders = {}           # folder id -> SyncState
        self.ping = None            # cached Ping params {"interval": s, "folders": [(id, cls)]}
        self.info = {}              # DeviceInformation from Settings/Provision
        self.info_settings = 0      # Settings requests that carried DeviceInformation
        self.last_sync = {}         # cached Sync collection params for empty Sync bodies

    def to_json(self):
        return {
            "device_id": self.id, "device_type": self.type, "policy_key": self.policy_key,
            "temp_key": self.temp_key, "wipe": self.wipe,
            "hierarchy_synckey": self.hier.current if self.hier else None,
            "folders": {fid: {"synckey": st.current, "previous_synckey": st.previous,
                              "view": st.keys.get(st.current, {})}
                        for fid, st in self.folders.items()},
            "ping": self.ping, "info": self.info, "info_settings": self.info_settings,
        }


class User:
    def __init__(self, name, password, email=None, display_name=None):
        self.name = name
        self.password = password
        self.email = email or ("%s@example.test" % name)
        self.display_name = display_name or name
        self.folders = {}
        self.devices = {}
        self.next_folder = 100
        self.oof = {"OofState": "0"}


class Store:
    def __init__(self, synckey_style="uuid"):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.seq = 1
        self.users = {}
        self.policy = dict(DEFAULT_POLICY)
        self.synckey_style = synckey_style
        self.sent = []                # messages accepted by SendMail/SmartReply/SmartForward
        self.meeting_responses = []   # every MeetingResponse request that was accepted

    # ----------------------------------------------------------------------------------
    def bump(self):
        self.seq += 1
        self.cond.notify_all()
        return self.seq

    def load(self, obj):
        with self.lock:
            if "policy" in obj:
                self.policy.update(obj["policy"])
            if "synckey_style" in obj:
                self.synckey_style = obj["synckey_style"]
            for u in obj.get("users", []):
                user = User(u["name"], u.get("password", ""), u.get("email"),
                            u.get("display_name"))
                self.users[user.name] = user
                for f in u.get("folders", []):
                    folder = Folder(str(f["id"]), f["name"], f["type"], str(f.get("parent", "0")),
                                    self.bump())
                    user.folders[folder.id] = folder
                    for it in f.get("items", []):
                        sid = str(it.get("id") or "%s:%d" % (folder.id, folder.next_item))
                        folder.next_item += 1
                        folder.items[sid] = Item(sid, it.get("class", folder.cls),
                                                 it.get("data", {}), self.bump())

    def load_file(self, path):
        with open(path, encoding="utf-8") as fh:
            self.load(json.load(fh))

    def snapshot(self, username=None):
        with self.lock:
            users = []
            for u in self.users.values():
                if username and u.name != username:
                    continue
                users.append({
                    "name": u.name, "password": u.password, "email": u.email,
                    "display_name": u.display_name,
                    "folders": [{"id": f.id, "name": f.name, "type": f.type, "parent": f.parent,
                                 "items": [i.to_json() for i in f.items.values()]}
                                for f in u.folders.values()]})
            return {"users": users, "policy": self.policy}

    # ----------------------------------------------------------------------------------
    def authenticate(self, username, password):
        name = username
        if "\\" in name:
            name = name.split("\\", 1)[1]
        user = self.users.get(name)
        if user is None and "@" in name:
            user = self.users.get(name.split("@", 1)[0])
        if user is None:
            for u in self.users.values():
                if u.email.lower() == name.lower():
                    user = u
        if user is not None and user.password == password:
            return user
        return None

    def device(self, user, device_id, device_type=""):
        dev = user.devices.get(device_id)
        if dev is None:
            dev = Device(device_id, device_type, user)
            user.devices[device_id] = dev
        return dev

    def new_state(self):
        return SyncState(self.synckey_style, str(uuid.uuid4()))

    @staticmethod
    def new_policy_key():
        return str(random.randint(10 ** 8, 2 ** 31 - 1))

    # ----------------------------------------------------------------------------------
    # mutations (caller holds the lock or is single-threaded)

    def add_item(self, user, folder_id, data, cls=None, sid=None):
        folder = user.folders[folder_id]
        if sid is None:
            while True:
                sid = "%s:%d" % (folder.id, folder.next_item)
                folder.next_item += 1
                if sid not in folder.items:
                    break
        item = Item(sid, cls or folder.cls, data, self.bump())
        folder.items[sid] = item
        return item

    def change_item(self, user, folder_id, sid, data, replace=False):
        folder = user.folders[folder_id]
        item = folder.items[sid]
        if replace:
            keep = {k: v for k, v in item.data.items() if k.startswith("_") and k not in data}
            item.data = dict(data)
            item.data.update(keep)
        else:
            item.data.update(data)
        item.version = self.bump()
        return item

    def delete_item(self, user, folder_id, sid):
        folder = user.folders[folder_id]
        item = folder.items.pop(sid)
        self.bump()
        return item

    def move_item(self, user, src, dst, sid):
        item = self.delete_item(user, src, sid)
        return self.add_item(user, dst, item.data, item.cls)

    def find_item(self, user, sid):
        for f in user.folders.values():
            if sid in f.items:
                return f, f.items[sid]
        return None, None

    def add_folder(self, user, name, ftype, parent="0", fid=None):
        if fid is None:
            while str(user.next_folder) in user.folders:
                user.next_folder += 1
            fid = str(user.next_folder)
            user.next_folder += 1
        folder = Folder(fid, name, ftype, parent, self.bump())
        user.folders[fid] = folder
        return folder

    def delete_folder(self, user, fid):
        victims = [fid]
        changed = True
        while changed:
            changed = False
            for f in user.folders.values():
                if f.parent in victims and f.id not in victims:
                    victims.append(f.id)
                    changed = True
        for v in victims:
            user.folders.pop(v, None)
        self.bump()
        return victims

    def update_folder(self, user, fid, name=None, parent=None):
        f = user.folders[fid]
        if name is not None:
            f.name = name
        if parent is not None:
            f.parent = parent
        f.version = self.bump()
        return f

    def folder_by_type(self, user, ftype):
        for f in user.folders.values():
            if f.type == ftype:
                return f
        return None

    # ----------------------------------------------------------------------------------
    def pending_changes(self, user, device, folder_id):
        """True when the device's current view of folder_id differs from the folder."""
        folder = user.folders.get(folder_id)
        st = device.folders.get(folder_id)
        if folder is None or st is None or st.current is None:
            return False
        view = st.keys.get(st.current, {})
        if len(view) != len(folder.items):
            return True
        for sid, item in folder.items.items():
            if view.get(sid) != item.version:
                return True
        return False

    def hierarchy_changed(self, user, device):
        if device.hier is None or device.hier.current is None:
            return False
        view = device.hier.keys.get(device.hier.current, {})
        cur = {f.id: list(f.hier_tuple()) for f in user.folders.values()}
        return {k: list(v) for k, v in view.items()} != cur


def eas_now(offset_seconds=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def compact_now(offset_seconds=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_seconds)
    return t.strftime("%Y%m%dT%H%M%SZ")
