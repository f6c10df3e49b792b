# SPDX-License-Identifier: Apache-2.0
"""WBXML 1.3 encoder/decoder for ActiveSync, plus an XML view of the same tree.

The tree is a small Element class: namespace (code page name), tag name, text (str), opaque
bytes, or children. The decoder rejects malformed input with WbxmlError instead of guessing.
"""
import base64
import xml.etree.ElementTree as ET

from . import codepages as cp

SWITCH_PAGE = 0x00
END = 0x01
ENTITY = 0x02
STR_I = 0x03
LITERAL = 0x04
STR_T = 0x83
OPAQUE = 0xC3

MAX_DEPTH = 64


class WbxmlError(ValueError):
    """The input is not well-formed ActiveSync WBXML."""


class Element:
    """One ActiveSync element: ns:name with text, opaque data or children."""

    __slots__ = ("ns", "name", "text", "opaque", "children")

    def __init__(self, ns, name, text=None, children=None, opaque=None):
        self.ns = ns
        self.name = name
        self.text = None if text is None else str(text)
        self.opaque = opaque
        self.children = list(children) if children else []

    # construction helpers -------------------------------------------------------------
    def add(self, name, text=None, ns=None, opaque=None):
        """Append a child (same namespace unless ns given) and return it."""
        child = Element(ns or self.ns, name, text=text, opaque=opaque)
        self.children.append(child)
        return child

    def append(self, el):
        self.children.append(el)
        return el

    # queries ---------------------------------------------------------------------------
    def find(self, name, ns=None):
        for c in self.children:
            if c.name == name and (ns is None or c.ns == ns):
                return c
        return None

    def findall(self, name, ns=None):
        return [c for c in self.children if c.name == name and (ns is None or c.ns == ns)]

    def findtext(self, name, default=None, ns=None):
        c = self.find(name, ns)
        if c is None:
            return default
        if c.opaque is not None:
            return c.opaque.decode("utf-8", "replace")
        return c.text if c.text is not None else ""

    def path(self, *names):
        cur = self
        for n in names:
            cur = cur.find(n) if cur is not None else None
        return cur

    def value(self):
        """Text content (opaque data decoded as UTF-8)."""
        if self.opaque is not None:
            return self.opaque.decode("utf-8", "replace")
        return self.text or ""

    def __eq__(self, other):
        if not isinstance(other, Element):
            return NotImplemented
        return (self.ns == other.ns and self.name == other.name
                and (self.text or "") == (other.text or "")
                and self.opaque == other.opaque and self.children == other.children)

    def __repr__(self):
        return "<Element %s:%s>" % (self.ns, self.name)


# ---------------------------------------------------------------------------------------
# encoding


def _mb_u_int32(value):
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def encode(root):
    """Encode an Element tree as WBXML (header 03 01 6A 00, no string table)."""
    out = bytearray(b"\x03\x01\x6a\x00")
    state = {"page": 0}

    def emit(el, depth):
        if depth > MAX_DEPTH:
            raise WbxmlError("tree too deep")
        key = (el.ns, el.name)
        if key not in cp.TOKEN_BY_NAME:
            raise WbxmlError("unknown tag %s:%s" % key)
        page, token = cp.TOKEN_BY_NAME[key]
        if page != state["page"]:
            out.append(SWITCH_PAGE)
            out.append(page)
            state["page"] = page
        has_content = bool(el.children) or el.opaque is not None or bool(el.text)
        out.append(token | (0x40 if has_content else 0))
        if not has_content:
            return
        if el.opaque is not None:
            out.append(OPAQUE)
            out.extend(_mb_u_int32(len(el.opaque)))
            out.extend(el.opaque)
        elif el.text:
            out.append(STR_I)
            out.extend(el.text.encode("utf-8"))
            out.append(0)
        for c in el.children:
            emit(c, depth + 1)
        out.append(END)

    emit(root, 0)
    return bytes(out)


# ---------------------------------------------------------------------------------------
# decoding


class _Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def byte(self):
        if self.pos >= len(self.data):
            raise WbxmlError("unexpected end of data at %d" % self.pos)
        b = self.data[self.pos]
        self.pos += 1
        return b

    def mb(self):
        value = 0
        for _ in range(5):
            b = self.byte()
            value = (value << 7) | (b & 0x7F)
            if not b & 0x80:
                return value
        raise WbxmlError("mb_u_int32 too long at %d" % self.pos)

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise WbxmlError("length %d runs past end of data" % n)
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def cstring(self):
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise WbxmlError("unterminated inline string at %d" % self.pos)
        s = self.data[self.pos:end]
        self.pos = end + 1
        return s


def decode(data):
    """Decode WBXML bytes into an Element tree. Raises WbxmlError on malformed input."""
    if not isinstance(data, (bytes, bytearray)):
        raise WbxmlError("not bytes")
    r = _Reader(bytes(data))
    version = r.byte()
    if version not in (0x01, 0x02, 0x03):
        raise WbxmlError("unsupported WBXML version 0x%02x" % version)
    publicid = r.mb()
    if publicid == 0:
        r.mb()  # index into string table; ActiveSync never uses it
    charset = r.mb()
    if charset not in (0x6A, 0):
        raise WbxmlError("unsupported charset %d" % charset)
    strtbl = r.take(r.mb())
    page = 0
    stack = []
    root = None
    texts = {}

    def add_text(el, s):
        texts.setdefault(id(el), []).append(s)

    while True:
        if root is not None and not stack:
            break
        b = r.byte()
        if b == SWITCH_PAGE:
            page = r.byte()
            if page not in cp.PAGE_BY_NUM:
                raise WbxmlError("unknown code page %d" % page)
            continue
        if b == END:
            if not stack:
                raise WbxmlError("END without open element")
            el = stack.pop()
            parts = texts.pop(id(el), None)
            if parts:
                joined = b"".join(parts)
                try:
                    el.text = joined.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise WbxmlError("invalid UTF-8 in %s" % el.name) from exc
            continue
        if b in (STR_I, STR_T, ENTITY, OPAQUE):
            if not stack:
                raise WbxmlError("content outside the root element")
            cur = stack[-1]
            if b == STR_I:
                add_text(cur, r.cstring())
            elif b == STR_T:
                off = r.mb()
                if off >= len(strtbl):
                    raise WbxmlError("string table offset out of range")
                end = strtbl.find(b"\x00", off)
                add_text(cur, strtbl[off:end if end >= 0 else len(strtbl)])
            elif b == ENTITY:
                add_text(cur, chr(r.mb()).encode("utf-8"))
            else:
                blob = r.take(r.mb())
                cur.opaque = (cur.opaque or b"") + blob
            continue
        if b in (LITERAL, 0x40, 0x41, 0x42, 0x43, 0x44, 0x80, 0x81, 0x82, 0xC0, 0xC1, 0xC2,
                 0xC4):
            raise WbxmlError("unsupported global token 0x%02x" % b)
        if b & 0x80:
            raise WbxmlError("attributes are not used by ActiveSync (0x%02x)" % b)
        token = b & 0x3F
        name = cp.NAME_BY_TOKEN.get((page, token))
        if name is None:
            raise WbxmlError("unknown token 0x%02x on page %d" % (token, page))
        el = Element(name[0], name[1])
        if stack:
            stack[-1].children.append(el)
        elif root is None:
            root = el
        else:
            raise WbxmlError("second root element")
        if b & 0x40:
            if len(stack) >= MAX_DEPTH:
                raise WbxmlError("nesting too deep")
            stack.append(el)
        elif not stack:
            break
    if r.pos != len(r.data):
        raise WbxmlError("%d trailing bytes" % (len(r.data) - r.pos))
    if root is None:
        raise WbxmlError("no root element")
    return root


# ---------------------------------------------------------------------------------------
# XML view


def _prefix(ns):
    return ns.lower()


def to_xml(root, pretty=True, libwbxml=False):
    """Render the tree as XML (MS-ASWBXML names, namespaces 'Page:'); opaque as base64.

    libwbxml=True uses libwbxml's tag and namespace spellings and adds its DOCTYPE, so that
    `xml2wbxml` encodes the output to the same tokens."""
    used = []

    def collect(el):
        if el.ns not in used:
            used.append(el.ns)
        for c in el.children:
            collect(c)

    collect(root)
    lines = ['<?xml version="1.0" encoding="utf-8"?>']
    if libwbxml:
        lines.append('<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" '
                     '"http://www.microsoft.com/">')

    def nsname(ns):
        return cp.LIBWBXML_NS.get(ns, ns) if libwbxml else ns

    def esc(s):
        return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\r", "&#13;"))

    def qname(el):
        name = cp.LIBWBXML_NAMES.get((el.ns, el.name), el.name) if libwbxml else el.name
        return name if el.ns == root.ns else "%s:%s" % (_prefix(el.ns), name)

    def render(el, depth):
        ind = "  " * depth if pretty else ""
        attrs = ""
        if el is root:
            attrs = ' xmlns="%s:"' % nsname(root.ns)
            for ns in used:
                if ns != root.ns:
                    attrs += ' xmlns:%s="%s:"' % (_prefix(ns), nsname(ns))
        q = qname(el)
        if el.children:
            lines.append("%s<%s%s>" % (ind, q, attrs))
            for c in el.children:
                render(c, depth + 1)
            lines.append("%s</%s>" % (ind, q))
        elif el.opaque is not None:
            lines.append("%s<%s%s>%s</%s>" % (ind, q, attrs,
                                              base64.b64encode(el.opaque).decode(), q))
        elif el.text:
            lines.append("%s<%s%s>%s</%s>" % (ind, q, attrs, esc(el.text), q))
        else:
            lines.append("%s<%s%s/>" % (ind, q, attrs))

    render(root, 0)
    return ("\n" if pretty else "").join(lines) + ("\n" if pretty else "")


def from_xml(text):
    """Parse ActiveSync XML ('Page:' namespaces; libwbxml or MS-ASWBXML names) to a tree.

    Tags listed in codepages.OPAQUE_TAGS carry base64 text and become opaque data.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    # ElementTree rejects a DOCTYPE with external ids only if asked to resolve; strip it.
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("<!DOCTYPE")]
    node = ET.fromstring("\n".join(lines).encode("utf-8"))

    def conv(n):
        if not n.tag.startswith("{"):
            raise WbxmlError("element %s has no namespace" % n.tag)
        ns, name = n.tag[1:].split("}", 1)
        ns = cp.canonical_ns(ns.rstrip(":"))
        name = cp.canonical_name(ns, name)
        if (ns, name) not in cp.TOKEN_BY_NAME:
            raise WbxmlError("unknown tag %s:%s" % (ns, name))
        el = Element(ns, name)
        kids = list(n)
        if kids:
            el.children = [conv(k) for k in kids]
        else:
            t = (n.text or "")
            if (ns, name) in cp.OPAQUE_TAGS:
                el.opaque = base64.b64decode("".join(t.split()))
            elif t.strip() or t:
                el.text = t if t.strip() else None
        return el

    return conv(node)
