#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-wire (binary, so generated): tests/fuzz/gen-wire-seeds.py DIR.
The operation encoding is described at the top of fuzz-wire.c."""
import os
import sys

MAX = 256 * 1024


def chunk(data, lazy=False):
    """Plain chunks of at most 64 bytes each."""
    out = b""
    for i in range(0, len(data), 64):
        part = data[i:i + 64]
        out += bytes([(0x40 if lazy else 0) | (len(part) - 1)]) + part
    return out


def with_fds(data, nfds, newline=False, lazy=False):
    """One chunk of 1-256 bytes carrying nfds (0-7) fds."""
    assert 1 <= len(data) <= 256 and 0 <= nfds <= 7
    return bytes([0x80 | (0x10 if lazy else 0) | (0x08 if newline else 0) | nfds, len(data) - 1]) + data


def filler(kib4, byte=b"a", newline=False, lazy=False):
    """kib4 * 4 KiB (1-16) of one byte (4 KiB of newlines), optionally followed by a newline."""
    assert 1 <= kib4 <= 16
    return bytes([0xc0 | (0x20 if newline else 0) | (0x10 if lazy else 0) | (kib4 - 1)]) + byte


def fill(n, byte=b"a", lazy=False):
    """n bytes (a multiple of 4 KiB) of one byte, in as few operations as possible."""
    assert n % 4096 == 0
    out = b""
    while n:
        k = min(n // 4096, 16)
        out += filler(k, byte, lazy=lazy)
        n -= k * 4096
    return out


def exact_line(length):
    """A line of exactly length bytes (newline excluded)."""
    return fill(length // 4096 * 4096) + chunk(b"b" * (length % 4096)) + chunk(b"\n")


REQ = b'{"v":1,"id":1,"method":"system.version"}'
RUN = b'{"v":1,"id":2,"method":"container.run","params":{"image":"alpine"},"fds":2}'
seeds = {
    "one-line": chunk(REQ + b"\n"),
    "two-lines-one-chunk": chunk(REQ + b"\n" + REQ + b"\n"),
    "lines-split-lazily": chunk(REQ[:10], lazy=True) + chunk(REQ[10:] + b"\n" + b"{", lazy=True) + chunk(b"}\n"),
    "empty-lines": chunk(b"\n\n\n"),
    "nul-bytes": chunk(b"a\0b\n\0\n"),
    "no-final-newline": chunk(REQ + b"\n" + REQ),
    "fds-with-line": with_fds(RUN[:100], 2) + chunk(RUN[100:] + b"\n"),
    "fds-end-line": with_fds(RUN, 2, newline=True),
    "fds-two-lines-in-chunk": with_fds(REQ + b"\n" + REQ, 1) + chunk(b"\n"),
    "fds-several-chunks": with_fds(b"{", 2, lazy=True) + with_fds(b'"a":1', 2) + with_fds(b"}", 1, newline=True),
    "fds-over-cap": with_fds(b"x", 7, newline=True) + chunk(REQ + b"\n"),
    "fds-five-batches": b"".join(with_fds(b"x", 1) for _ in range(5)) + chunk(b"\n"),
    "fds-too-many-batches": b"".join(with_fds(b"x", 1) for _ in range(9)) + chunk(b"\n"),
    "queued-messages-with-fds": with_fds(REQ, 1, newline=True, lazy=True) + chunk(REQ[:20], lazy=True)
    + with_fds(REQ[20:], 2, newline=True, lazy=True) + chunk(b"\n"),
    "socket-full": fill(MAX - 8192, lazy=True) + filler(1, newline=True) + chunk(REQ + b"\n"),
    # The reader holds 258112 bytes of a line when its newline arrives past the limit.
    "oversized-newline-in-one-read": fill(MAX - 4096) + chunk(b"x" * 64) + chunk(b"y" * 4032 + b"\n", lazy=True)
    + chunk(REQ + b"\n"),
    "fds-on-empty-line": with_fds(b"\n", 3) + chunk(b"\n"),
    "max-line": exact_line(MAX - 1) + chunk(REQ + b"\n"),
    "max-line-plus-one": exact_line(MAX) + chunk(REQ + b"\n"),
    "oversized-then-ok": fill(MAX) + filler(1, newline=True) + chunk(REQ + b"\n"),
    "oversized-with-fds": with_fds(b"x", 2) + fill(MAX) + with_fds(b"y", 1) + filler(1, newline=True)
    + with_fds(REQ, 1, newline=True),
    "oversized-no-newline": fill(MAX) + filler(1),
    "two-oversized": fill(MAX) + filler(1, newline=True) + fill(MAX)
    + filler(1, newline=True) + chunk(b"ok\n"),
    "newline-flood-after-big-line": fill(MAX - 8192) + chunk(b"x" * 4000) + chunk(b"\n")
    + filler(1, byte=b"\n") * 4,
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "wire")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
