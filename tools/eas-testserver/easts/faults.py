# SPDX-License-Identifier: Apache-2.0
"""Fault rules: which request gets which fault.

A rule is a dict:
  {"command": "Sync" | ["Sync","Ping"] | "*",   which commands it watches (default "*")
   "nth": 2,            fire on the 2nd matching request after the rule was added (default 1)
   "times": 1,          fire on this many consecutive matches from nth on (0 = forever)
   "user": ..., "device": ..., "collection": ...,   optional filters
   "type": "http" | "status" | ..., plus the type's own fields}
See docs/testserver.md for every type.
"""
import threading

TYPES = {
    "http", "status", "repeat_synckey", "double_change", "stale_change", "ping_reject_folder",
    "reset", "drop", "delay", "truncate", "malformed", "inject", "invalidate_policy", "wipe",
    "item_status",
}


class FaultError(ValueError):
    pass


class Rule:
    def __init__(self, rid, spec):
        if not isinstance(spec, dict):
            raise FaultError("a fault must be a JSON object")
        ftype = spec.get("type")
        if ftype not in TYPES:
            raise FaultError("unknown fault type %r (known: %s)" % (ftype, ", ".join(
                sorted(TYPES))))
        if ftype == "http" and "status" not in spec:
            raise FaultError("http fault needs 'status'")
        if ftype in ("status", "item_status") and "status" not in spec:
            raise FaultError("status fault needs 'status'")
        self.id = rid
        self.spec = dict(spec)
        self.nth = int(spec.get("nth", 1))
        self.times = int(spec.get("times", 1))
        self.seen = 0
        self.fired = 0

    def matches(self, info):
        cmds = self.spec.get("command", "*")
        if isinstance(cmds, str):
            cmds = [cmds]
        if "*" not in cmds and info.get("command") not in cmds:
            return False
        for key in ("user", "device"):
            if key in self.spec and str(self.spec[key]) != str(info.get(key)):
                return False
        if self.spec.get("type") == "item_status":
            # counts only requests that carry a device command of that kind
            ops = info.get("client_ops") or set()
            if not ops or ("op" in self.spec and self.spec["op"] not in ops):
                return False
        if "collection" in self.spec and \
                str(self.spec["collection"]) not in info.get("collections", []):
            return False
        return True

    def to_json(self):
        d = dict(self.spec)
        d.update({"id": self.id, "seen": self.seen, "fired": self.fired})
        return d


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.next_id = 1

    def add(self, spec):
        with self.lock:
            rule = Rule(self.next_id, spec)
            self.next_id += 1
            self.rules.append(rule)
            return rule.id

    def clear(self):
        with self.lock:
            self.rules = []

    def remove(self, rid):
        with self.lock:
            before = len(self.rules)
            self.rules = [r for r in self.rules if r.id != rid]
            return len(self.rules) != before

    def select(self, info):
        """Rules that fire for this request (counters advance)."""
        out = []
        with self.lock:
            for r in self.rules:
                if not r.matches(info):
                    continue
                r.seen += 1
                if r.seen < r.nth:
                    continue
                if r.times and r.seen >= r.nth + r.times:
                    continue
                r.fired += 1
                d = dict(r.spec)
                d["id"] = r.id
                out.append(d)
        return out

    def to_json(self):
        with self.lock:
            return [r.to_json() for r in self.rules]
