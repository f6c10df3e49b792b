# SPDX-License-Identifier: Apache-2.0
"""Item data (JSON dicts keyed by EAS element names) <-> ApplicationData elements.

An item's data dict uses the MS-ASWBXML names of its class's code page ("Subject",
"StartTime", "Recurrence": {...}, "Exceptions": [{...}], "Attendees": [{...}]).
Keys starting with "_" are server-side: "_text" (plain body), "_html" (HTML body), "_mime"
(raw RFC 822 message, e-mail), "_attachments" ([{"name","content_type","data"|"text"}]).
"""
import base64
import email.message
import email.policy
import email.utils
import time

from . import codepages as cp
from .wbxml import Element

CLASS_PAGES = {
    "Email": ["Email", "Email2", "AirSyncBase"],
    "Calendar": ["Calendar", "AirSyncBase"],
    "Contacts": ["Contacts", "Contacts2", "AirSyncBase"],
    "Tasks": ["Tasks", "AirSyncBase"],
    "Notes": ["Notes", "AirSyncBase"],
}

# container element -> repeated child element
LIST_CHILD = {
    "Attendees": "Attendee", "Exceptions": "Exception", "Categories": "Category",
    "Children": "Child", "Attachments": "Attachment", "Recurrences": "Recurrence",
}

# Folder type -> class of its items
FOLDER_CLASS = {1: "Email", 2: "Email", 3: "Email", 4: "Email", 5: "Email", 6: "Email",
                12: "Email", 7: "Tasks", 15: "Tasks", 8: "Calendar", 13: "Calendar",
                9: "Contacts", 14: "Contacts", 10: "Notes", 17: "Notes", 19: "Email"}

BODY_NS = {"Calendar", "Contacts", "Tasks", "Notes", "Email"}


def _ns_for(cls, key):
    for ns in CLASS_PAGES.get(cls, []):
        if (ns, key) in cp.TOKEN_BY_NAME:
            return ns
    return None


def _to_elements(ns_list_cls, key, value, version, parent_ns=None):
    ns = None
    if parent_ns and (parent_ns, key) in cp.TOKEN_BY_NAME:
        ns = parent_ns
    if ns is None:
        ns = _ns_for(ns_list_cls, key)
    if ns is None:
        return []
    el = Element(ns, key)
    if isinstance(value, dict):
        for k, v in value.items():
            if k.startswith("_"):
                continue
            el.children.extend(_to_elements(ns_list_cls, k, v, version, ns))
    elif isinstance(value, list):
        child = LIST_CHILD.get(key)
        for v in value:
            if child is None:
                continue
            if isinstance(v, dict):
                c = Element(ns, child)
                for k, vv in v.items():
                    if not k.startswith("_"):
                        c.children.extend(_to_elements(ns_list_cls, k, vv, version, ns))
                el.children.append(c)
            else:
                el.children.append(Element(ns, child, text=_scalar(v)))
    elif isinstance(value, bool):
        el.text = "1" if value else "0"
    elif value is not None:
        el.text = _scalar(value)
    return [el]


def _scalar(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    return str(v)


# --------------------------------------------------------------------------------------
# bodies


def build_mime(data):
    """The RFC 822 form of an e-mail item (the stored _mime, or built from its fields)."""
    if data.get("_mime"):
        return data["_mime"].encode("utf-8") if isinstance(data["_mime"], str) else data["_mime"]
    msg = email.message.EmailMessage(policy=email.policy.SMTP)
    msg["From"] = data.get("From", "nobody@example.test")
    if data.get("To"):
        msg["To"] = data["To"]
    if data.get("Cc"):
        msg["Cc"] = data["Cc"]
    msg["Subject"] = data.get("Subject", "")
    msg["Date"] = _rfc822_date(data.get("DateReceived"))
    msg["Message-ID"] = "<%s@eas-testserver>" % abs(hash(data.get("Subject", ""))) \
        if not data.get("_message_id") else data["_message_id"]
    text = data.get("_text")
    html = data.get("_html")
    if text is None and html is None:
        text = ""
    if text is not None:
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    else:
        msg.set_content(html, subtype="html")
    for att in data.get("_attachments", []):
        payload = base64.b64decode(att["data"]) if "data" in att else \
            att.get("text", "").encode("utf-8")
        maintype, _, subtype = att.get("content_type", "application/octet-stream").partition("/")
        msg.add_attachment(payload, maintype=maintype, subtype=subtype or "octet-stream",
                           filename=att.get("name", "file"))
    return msg.as_bytes()


def _rfc822_date(eas_date):
    if eas_date:
        try:
            t = time.strptime(eas_date[:19], "%Y-%m-%dT%H:%M:%S")
            return email.utils.formatdate(time.mktime(t) - time.timezone, usegmt=True)
        except ValueError:
            pass
    return email.utils.formatdate(usegmt=True)


def plain_text(data):
    if data.get("_text") is not None:
        return data["_text"]
    if data.get("_html") is not None:
        import re
        return re.sub(r"<[^>]+>", "", data["_html"])
    if data.get("_mime"):
        import email as _email
        msg = _email.message_from_bytes(build_mime(data), policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""
    return ""


def html_text(data):
    if data.get("_html") is not None:
        return data["_html"]
    t = plain_text(data)
    return "<html><body><pre>%s</pre></body></html>" % (
        t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def body_element(cls, data, prefs):
    """AirSyncBase:Body for the first preference the item can satisfy."""
    chosen = None
    for p in prefs or []:
        if p.get("type") in (1, 2) or (p.get("type") == 4 and cls == "Email"):
            chosen = p
            break
    if chosen is None:
        chosen = {"type": 1}
    btype = chosen["type"]
    if btype == 4:
        raw = build_mime(data)
    elif btype == 2:
        raw = html_text(data).encode("utf-8")
    else:
        raw = plain_text(data).encode("utf-8")
    body = Element("AirSyncBase", "Body")
    body.add("Type", str(btype))
    size = len(raw)
    trunc = chosen.get("truncation")
    truncated = trunc is not None and size > trunc
    if truncated and chosen.get("allornone"):
        body.add("EstimatedDataSize", str(size))
        body.add("Truncated", "1")
        return body
    if truncated:
        raw = raw[:trunc]
        # never cut a UTF-8 sequence in half
        while raw and (raw[-1] & 0xC0) == 0x80:
            raw = raw[:-1]
        if raw and raw[-1] >= 0xC0:
            raw = raw[:-1]
    body.add("EstimatedDataSize", str(size))
    if truncated:
        body.add("Truncated", "1")
    if raw:
        body.add("Data", raw.decode("utf-8", "replace"))
    if chosen.get("preview"):
        body.add("Preview", plain_text(data)[:chosen["preview"]])
    return body


# --------------------------------------------------------------------------------------
# item -> ApplicationData


def to_appdata(item, version, prefs=None, folder_id=None):
    """Children of ApplicationData for one item, for protocol version (float)."""
    cls = item.cls
    data = item.data
    out = []
    for key, value in data.items():
        if key.startswith("_"):
            continue
        if cls == "Calendar" and key == "Location" and version >= 16.0:
            loc = Element("AirSyncBase", "Location")
            loc.add("DisplayName", _scalar(value))
            out.append(loc)
            continue
        if cls == "Calendar" and key == "Exceptions" and isinstance(value, list):
            out.extend(_exceptions(value, version))
            continue
        out.extend(_to_elements(cls, key, value, version))
    if cls in BODY_NS:
        out.append(body_element(cls, data, prefs))
    if cls == "Email":
        atts = data.get("_attachments", [])
        if atts:
            container = Element("AirSyncBase", "Attachments")
            for i, att in enumerate(atts):
                a = container.add("Attachment")
                a.add("DisplayName", att.get("name", "file"))
                a.add("FileReference", "%s|%s|%d" % (folder_id or "", item.sid, i))
                a.add("Method", "1")
                a.add("EstimatedDataSize", str(len(attachment_bytes(att))))
            out.append(container)
        if version >= 12.0 and "NativeBodyType" not in data:
            out.append(Element("AirSyncBase", "NativeBodyType",
                               text="2" if data.get("_html") is not None else "1"))
    return out


def _exceptions(exceptions, version):
    container = Element("Calendar", "Exceptions")
    for exc in exceptions:
        e = container.add("Exception")
        for k, v in exc.items():
            if k.startswith("_"):
                continue
            if k == "Location" and version >= 16.0:
                loc = Element("AirSyncBase", "Location")
                loc.add("DisplayName", _scalar(v))
                e.append(loc)
                continue
            e.children.extend(_to_elements("Calendar", k, v, version, "Calendar"))
        if "_text" in exc:
            b = e.append(Element("AirSyncBase", "Body"))
            b.add("Type", "1")
            b.add("Data", exc["_text"])
    return [container]


def attachment_bytes(att):
    if "data" in att:
        return base64.b64decode(att["data"])
    return att.get("text", "").encode("utf-8")


# --------------------------------------------------------------------------------------
# ApplicationData -> item


def from_appdata(appdata, cls):
    """Data dict from a client's ApplicationData element."""
    data = {}
    for el in appdata.children:
        _merge_el(data, el)
    return data


def _el_to_value(el):
    if el.name in LIST_CHILD and (el.children or not el.text):
        out = []
        for c in el.children:
            if c.children:
                d = {}
                for cc in c.children:
                    _merge_el(d, cc)
                out.append(d)
            else:
                out.append(c.value())
        return out
    if el.children:
        d = {}
        for c in el.children:
            _merge_el(d, c)
        return d
    if el.opaque is not None:
        return base64.b64encode(el.opaque).decode()
    return el.text or ""


def _merge_el(data, el):
    if el.ns == "AirSyncBase" and el.name == "Body":
        btype = el.findtext("Type", "1")
        text = el.findtext("Data")
        if text is None:
            return
        if btype == "2":
            data["_html"] = text
        elif btype == "4":
            data["_mime"] = text
        else:
            data["_text"] = text
        return
    if el.ns == "AirSyncBase" and el.name == "Location":
        data["Location"] = el.findtext("DisplayName", "")
        return
    if el.ns == "AirSyncBase" and el.name in ("NativeBodyType", "Attachments"):
        return
    data[el.name] = _el_to_value(el)
