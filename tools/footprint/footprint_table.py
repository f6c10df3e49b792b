#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Markdown tables for tools/footprint/footprint.sh (stdlib only).

objects: reads `arm-none-eabi-size -B libeas.a` on stdin; one row per object.
image:   sizes of the firmware image, and which part of it is the core, the firmware
         (board + self-test) and the C library, from the GNU ld map file.
lto:     the same image link-time optimised: its size, and the core's share estimated from
         symbols (an LTO link's map names no modules, see lto()).
"""
import argparse
import re
import subprocess
import sys


def objects(args):
    rows = []
    for line in sys.stdin:
        f = line.split()
        if len(f) < 6 or not f[0].isdigit():
            continue
        name = f[5]
        name = re.sub(r"\.c\.obj$|\.obj$|\.o$", "", name)
        rows.append((name, int(f[0]), int(f[1]), int(f[2])))
    if args.module:
        rows = [r for r in rows if r[0].startswith(args.module)]
    rows.sort()
    present = [r for r in rows if r[1] or r[2] or r[3]]
    absent = [r[0] for r in rows if not (r[1] or r[2] or r[3])]
    title = f"`{args.module}*` objects of libeas.a" if args.module else "libeas.a (the core)"
    print(f"| {title} | text | data | bss |")
    print("|---|---:|---:|---:|")
    for name, t, d, b in present:
        print(f"| {name} | {t} | {d} | {b} |")
    tt = sum(r[1] for r in present)
    td = sum(r[2] for r in present)
    tb = sum(r[3] for r in present)
    print(f"| **total** | **{tt}** | **{td}** | **{tb}** |")
    if absent:
        print()
        print("Compiled out by this preset (empty objects): " + ", ".join(absent) + ".")
    if not rows:
        print()
        print("(no matching objects)")


# Output sections of an385.ld and the column they count towards.
SECTION_KIND = {
    ".isr_vector": "text",
    ".text": "text",
    ".ARM.extab": "text",
    ".ARM.exidx": "text",
    ".data": "data",
    ".bss": "bss",
    ".stack": "stack",
    ".flashstore": "store",
}


PER_MODULE = False


def owner(path):
    if "libeas.a(" in path:
        if PER_MODULE:
            m = re.search(r"libeas\.a\(([\w-]+)", path)
            return "core: " + (m.group(1) if m else "?")
        return "core (libeas.a)"
    if "libeasd_lwip.a(" in path:
        return "lwIP 2.1 (NO_SYS, raw TCP)"
    if "libeasd_mbedtls.a(" in path:
        return "mbedtls 2.28 (TLS 1.2 client)"
    if "libeasd_mps2.a(" in path:
        return "port: ports/mps2 (LAN9118, lwIP/TLS glue, flash store)"
    if "libeasd_fw_common.a(" in path:
        return "firmware: self-test"
    if "/firmware/" in path or path.startswith("firmware/") or "CMakeFiles" in path:
        return "firmware: board"
    if re.search(r"/lib(c|g|gcc|m|nosys)(_nano)?\.a\(", path):
        return "libc + libgcc (newlib-nano)"
    return "other (linker)"


def parse_map(path):
    """Returns {owner: {kind: bytes}} for the sections kept in the image."""
    sizes = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    try:
        start = lines.index("Linker script and memory map")
    except ValueError:
        return sizes
    out_sec = None
    pending = None  # input section name whose address/size is on the next line
    for line in lines[start + 1:]:
        m = re.match(r"^(\.[\w.]+|/DISCARD/)(?:\s+0x([0-9a-f]+)\s+0x([0-9a-f]+))?", line)
        if m:
            out_sec = m.group(1)
            pending = None
            # The stack is an empty NOLOAD output section: count the section itself.
            if SECTION_KIND.get(out_sec) in ("stack", "store") and m.group(3):
                k = SECTION_KIND[out_sec]
                d = sizes.setdefault(k, {})
                d[k] = d.get(k, 0) + int(m.group(3), 16)
            continue
        kind = SECTION_KIND.get(out_sec)
        if kind is None or kind in ("stack", "store"):
            continue
        m = re.match(r"^ (\.\S+|COMMON)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(.+)$", line)
        if m:
            size, obj = int(m.group(3), 16), m.group(4).strip()
        else:
            if re.match(r"^ (\.\S+|COMMON)$", line):
                pending = True
                continue
            m = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
            if not (m and pending):
                pending = None
                continue
            size, obj = int(m.group(2), 16), m.group(3).strip()
            pending = None
        if size == 0:
            continue
        d = sizes.setdefault(owner(obj), {})
        d[kind] = d.get(kind, 0) + size
    return sizes


def image(args):
    global PER_MODULE
    PER_MODULE = args.per_module
    out = subprocess.run([args.size_cmd, "-B", args.elf], check=True, capture_output=True,
                         text=True).stdout.splitlines()
    t, d, b = (int(x) for x in out[1].split()[:3])
    name = args.elf.rsplit("/", 1)[-1]
    parts = parse_map(args.map)
    stack = sum(p.get("stack", 0) for p in parts.values())
    store = sum(p.get("store", 0) for p in parts.values())
    print(f"| image {name} | text | data | bss |")
    print("|---|---:|---:|---:|")
    order = sorted(o for o in parts if o.startswith("core: ")) + [
        "core (libeas.a)", "mbedtls 2.28 (TLS 1.2 client)", "lwIP 2.1 (NO_SYS, raw TCP)",
        "port: ports/mps2 (LAN9118, lwIP/TLS glue, flash store)", "firmware: self-test",
        "firmware: board", "libc + libgcc (newlib-nano)", "other (linker)"]
    core = [0, 0, 0]
    for o in order:
        if o in parts:
            p = parts[o]
            row = (p.get('text', 0), p.get('data', 0), p.get('bss', 0))
            if o.startswith("core"):
                core = [c + r for c, r in zip(core, row)]
            print(f"| {o} | {row[0]} | {row[1]} | {row[2]} |")
    if PER_MODULE:
        print(f"| **core, all modules** | **{core[0]}** | **{core[1]}** | **{core[2]}** |")
    if stack:
        print(f"| stack (reserved, an385.ld) | 0 | 0 | {stack} |")
    # arm-none-eabi-size counts the NOLOAD store region (in the code memory) as bss.
    b -= store
    print(f"| **total (arm-none-eabi-size)** | **{t}** | **{d}** | **{b}** |")
    print()
    extra = (f" The flash-like store region ({store} B, NOLOAD, in the code memory) is counted "
             "in neither." if store > 4096 else "")
    print(f"Flash (text + data): {t + d} B. RAM (data + bss): {d + b} B, of which "
          f"{stack} B stack.{extra} The image links libeas.a whole and the linker drops what "
          "nothing calls, so the core share is what this image uses.")


# Suffixes GCC gives clones and LTO-promoted statics ("f.lto_priv.0", "f.constprop.0.isra.0").
CLONE_SUFFIX = re.compile(r"\.(lto_priv|constprop|isra|part|cold|localalias|lto)(\.\d+)?")


def nm_sizes(nm, path, defined_names=False):
    """{name: text-ish bytes} of the code and read-only data symbols in @p path."""
    out = subprocess.run([nm, "-S", "--defined-only", path], capture_output=True,
                         text=True).stdout.splitlines()
    sizes = {}
    for line in out:
        f = line.split()
        if defined_names and len(f) >= 2 and len(f[-2]) == 1:
            sizes.setdefault(f[-1], 0)
        if len(f) != 4 or f[2] not in "tTrR":
            continue
        name = CLONE_SUFFIX.sub("", f[3])
        sizes[name] = sizes.get(name, 0) + int(f[1], 16)
    return sizes


def lto(args):
    """The LTO image's size, and the core in it. An LTO link's map attributes everything to
    the link-time objects, so the core is counted by symbol: every function and table of the
    LTO image whose name (clone suffixes removed) libeas.a defines and no other library of
    the image does. What has no symbol (string literals) is taken as in the non-LTO link
    (its map share minus its symbols' share), so the estimate errs by how much LTO merges
    or drops strings, not more."""
    out = subprocess.run([args.size_cmd, "-B", args.elf], check=True, capture_output=True,
                         text=True).stdout.splitlines()
    t, d, b = (int(x) for x in out[1].split()[:3])
    core_names = set(nm_sizes(args.nm, args.core_lib, True))
    other = set()
    for lib in args.other:
        other |= set(nm_sizes(args.nm, lib, True))
    names = core_names - other
    lto_syms = sum(v for k, v in nm_sizes(args.nm, args.elf).items() if k in names)
    ref_syms = sum(v for k, v in nm_sizes(args.nm, args.ref_elf).items() if k in names)
    ref_core = parse_map(args.ref_map).get("core (libeas.a)", {}).get("text", 0)
    unnamed = max(ref_core - ref_syms, 0)
    store = 0
    for line in subprocess.run([args.size_cmd, "-A", args.elf], capture_output=True,
                               text=True).stdout.splitlines():
        f = line.split()
        if f and f[0] == ".flashstore":
            store = int(f[1])
    b -= store
    print("| link-time optimised (EASD_FW_LTO=ON) | text | data | bss |")
    print("|---|---:|---:|---:|")
    print(f"| core (estimate: symbols {lto_syms} + unnamed read-only data {unnamed}) "
          f"| {lto_syms + unnamed} | 0 | 0 |")
    print(f"| **total (arm-none-eabi-size)** | **{t}** | **{d}** | **{b}** |")
    print()
    print(f"LTO: {t + d} B flash. Without LTO the core is {ref_core} B by the map, of which "
          f"{ref_syms} B in named functions and tables (what the estimate counts by symbol).")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("objects")
    o.add_argument("--module", default="")
    i = sub.add_parser("image")
    i.add_argument("--size-cmd", required=True)
    i.add_argument("--elf", required=True)
    i.add_argument("--map", required=True)
    i.add_argument("--per-module", action="store_true")
    lt = sub.add_parser("lto")
    lt.add_argument("--size-cmd", required=True)
    lt.add_argument("--nm", required=True)
    lt.add_argument("--elf", required=True, help="the LTO image")
    lt.add_argument("--core-lib", required=True, help="libeas.a of the non-LTO build")
    lt.add_argument("--other", nargs="*", default=[],
                    help="the image's other libraries and objects (non-LTO build)")
    lt.add_argument("--ref-elf", required=True, help="the same image without LTO")
    lt.add_argument("--ref-map", required=True, help="its linker map")
    args = ap.parse_args()
    if args.cmd == "objects":
        objects(args)
    elif args.cmd == "lto":
        lto(args)
    else:
        image(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
