#!/usr/bin/env python3
"""Checks what GPU code candor's CUDA objects embed, without cuobjdump.

    check_fatbin_arch.py [--sass 90] FILE...   # .o, .a or a linked binary
    check_fatbin_arch.py --self-test

nvcc puts each translation unit's GPU code into the ELF section .nv_fatbin
(what `readelf -x .nv_fatbin` dumps) as one or more fatbinaries. A fatbinary
is a 16-byte header (magic 0xBA55ED50, version u16, header size u16, payload
size u64) followed by entries, each with its own header: kind u16 (1 = PTX,
2 = ELF machine code), version u16, header size u32, payload size u64,
compressed size u32, u32, minor u16, major u16, architecture u32 (90 for
sm_90 / compute_90), ... The script reads the ELF section itself (archive
members too) and lists the entries; the payloads, which nvcc may compress,
are not needed.

Passes when every file holds at least one fatbinary and each object with
GPU code carries machine code for the --sass architecture and PTX of an
architecture at least as new as its newest machine code (what a later GPU
JIT-compiles). Exit status 1 otherwise, naming what is missing.
"""

import argparse
import struct
import sys

FATBIN_MAGIC = 0xBA55ED50
KIND_PTX = 1
KIND_ELF = 2
SECTION = b".nv_fatbin"


def fatbin_entries(data):
    """(kind, arch) of every entry of the fatbinaries concatenated in data."""
    entries = []
    pos = 0
    while pos + 16 <= len(data):
        magic, _, header_size, payload_size = struct.unpack_from("<IHHQ", data, pos)
        if magic != FATBIN_MAGIC:
            # Fatbinaries in a linked section are 8-byte aligned: skip padding.
            pos += 8
            continue
        end = pos + header_size + payload_size
        if end > len(data):
            raise ValueError("fatbinary overruns its section")
        entry = pos + header_size
        while entry + 32 <= end:
            kind, _, entry_header, size = struct.unpack_from("<HHIQ", data, entry)
            (arch,) = struct.unpack_from("<I", data, entry + 28)
            if entry_header < 32:
                raise ValueError("bad fatbinary entry header")
            entries.append((kind, arch))
            entry += entry_header + size
        pos = end
    return entries


def elf_section(data, wanted):
    """Contents of section `wanted` of a 64-bit little-endian ELF, or None."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if shoff == 0 or shnum == 0:
        return None

    def header(i):
        return struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)

    names_offset = header(shstrndx)[4]
    for i in range(shnum):
        name_index, sh_type, _, _, offset, size = header(i)[:6]
        start = names_offset + name_index
        name = data[start:data.index(b"\0", start)]
        if name == wanted and sh_type != 8:  # 8: SHT_NOBITS
            return data[offset:offset + size]
    return None


def members(path, data):
    """(name, bytes) of each object in a file: itself, or an ar archive's."""
    if not data.startswith(b"!<arch>\n"):
        return [(path, data)]
    out = []
    long_names = b""
    pos = 8
    while pos + 60 <= len(data):
        name = data[pos:pos + 16].decode(errors="replace").strip()
        size = int(data[pos + 48:pos + 58].decode().strip())
        body = data[pos + 60:pos + 60 + size]
        if name == "//":
            long_names = body
        elif name not in ("/", "/SYM64/"):
            if name.startswith("/") and name[1:].isdigit():
                start = int(name[1:])
                name = long_names[start:long_names.index(b"/\n", start)].decode()
            out.append((f"{path}({name.rstrip('/')})", body))
        pos += 60 + size + (size & 1)
    return out


def check(paths, sass):
    ok = True
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        found = 0
        for name, body in members(path, data):
            section = elf_section(body, SECTION)
            if section is None:
                continue
            entries = fatbin_entries(section)
            if not entries:
                continue
            found += 1
            machine = sorted({a for k, a in entries if k == KIND_ELF})
            ptx = sorted({a for k, a in entries if k == KIND_PTX})
            print(f"{name}: sm_{machine} compute_{ptx}")
            if sass not in machine:
                print(f"  FAIL: no sm_{sass} machine code")
                ok = False
            newest = max(machine) if machine else sass
            if not ptx or max(ptx) < newest:
                print(f"  FAIL: no PTX for compute_{newest} or newer")
                ok = False
        if found == 0:
            print(f"{path}: FAIL: no object with GPU code (.nv_fatbin)")
            ok = False
    return ok


def fake_fatbin(entries):
    """A fatbinary holding empty entries of the given (kind, arch)."""
    body = b""
    for kind, arch in entries:
        header = struct.pack("<HHIQIIHHI", kind, 0x101, 64, 8, 0, 0, 8, 1, arch)
        body += header.ljust(64, b"\0") + b"\0" * 8
    return struct.pack("<IHHQ", FATBIN_MAGIC, 1, 16, len(body)) + body


def self_test():
    good = fake_fatbin([(KIND_ELF, 90), (KIND_PTX, 90)])
    old = fake_fatbin([(KIND_ELF, 75)])
    # Two fatbinaries with alignment padding between them, as a linker lays
    # out the section of an executable.
    both = old + b"\0" * 8 + good
    assert fatbin_entries(good) == [(KIND_ELF, 90), (KIND_PTX, 90)]
    assert fatbin_entries(old) == [(KIND_ELF, 75)]
    assert fatbin_entries(both) == [(KIND_ELF, 75), (KIND_ELF, 90), (KIND_PTX, 90)]
    assert fatbin_entries(b"\0" * 64) == []
    print("self-test passed")
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sass", type=int, default=90)
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    if args.self_test:
        return 0 if self_test() else 1
    if not args.files:
        parser.error("no files")
    return 0 if check(args.files, args.sass) else 1


if __name__ == "__main__":
    sys.exit(main())
