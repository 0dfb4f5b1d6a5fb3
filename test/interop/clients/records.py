"""The interop record scheme shared by every client (docs/interop.md).

Record i of a run is a pure function of i and the run's base timestamp, so a verifier in another
process, language or broker lifetime can check it byte for byte. Mirrors test/interop/records.ts and
test/interop/java/src/main/java/samsa/interop/Records.java; keep the three in step.
Also holds the command line and the verification shared by the Python clients.
"""

import argparse
import json
import sys

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
UNICODE_SUFFIX = "-\u00fcn\u00efc\u00f6d\u00e9-\u20ac-\U0001F600"


def key_of(i):
    if i % 7 == 0:
        return None
    if i % 19 == 0:
        return b""
    return ("key-%d" % i).encode()


def value_of(i):
    if i % 11 == 0:
        return None
    if i % 13 == 0:
        return b""
    n = 20000 if i % 1000 == 999 else (i * 37) % 200
    pad = "".join(ALPHABET[(i + 7 * j) % 36] for j in range(n))
    s = "value-%d-%s%s" % (i, pad, UNICODE_SUFFIX if i % 23 == 0 else "")
    return s.encode("utf-8")


def headers_of(i, null_header_values=True):
    """null_header_values=False is the "no-null-headers" profile (clients that cannot send them)."""
    if i % 5 == 0:
        return []
    h = [("h", str(i).encode())]
    if i % 3 == 0:
        h += [("dup", b"a"), ("dup", b"b")]
    if i % 4 == 0 and null_header_values:
        h.append(("nul", None))
    return h


def _show(b):
    if b is None:
        return "null"
    s = b.decode("utf-8", "replace")
    return json.dumps(s if len(s) <= 40 else "%s...(%d bytes)" % (s[:40], len(b)))


def diff_record(i, base, key, value, headers, ts, null_header_values=True):
    """The first difference between record i and what was read, or None."""
    if key_of(i) != key:
        return "key: expected %s got %s" % (_show(key_of(i)), _show(key))
    if value_of(i) != value:
        return "value: expected %s got %s" % (_show(value_of(i)), _show(value))
    want = headers_of(i, null_header_values)
    got = [(k if isinstance(k, str) else k.decode(), v) for k, v in (headers or [])]
    if want != got:
        return "headers: expected %r got %r" % (want, got)
    if base + i != ts:
        return "timestamp: expected %d got %d" % (base + i, ts)
    return None


class Verifier:
    """Checks records read from a topic's only partition, in offset order (see docs/interop.md):
    exact mode (acked is None) wants records 0..count-1 at offsets 0..count-1; verify mode (after a
    crash) identifies each record by timestamp - base and wants every acknowledged index."""

    def __init__(self, count, base, acked=None, null_header_values=True):
        self.count, self.base, self.acked = count, base, acked
        self.null_header_values = null_header_values
        self.read = 0
        self.mismatches = 0
        self.errors = []
        self.present = set()
        self.last = -1

    def fail(self, msg):
        self.mismatches += 1
        if len(self.errors) < 10:
            self.errors.append(msg)

    def add(self, offset, key, value, headers, ts):
        n = self.read
        self.read += 1
        if self.acked is None:
            if offset != n:
                return self.fail("record %d: offset %d, expected %d" % (n, offset, n))
            i = n
        else:
            i = ts - self.base
        if i < 0 or i >= self.count:
            return self.fail("offset %d: timestamp %d is not in the run" % (offset, ts))
        if i <= self.last:
            return self.fail("offset %d: index %d after index %d (duplicate or reordered)" % (offset, i, self.last))
        d = diff_record(i, self.base, key, value, headers, ts, self.null_header_values)
        if d is not None:
            return self.fail("offset %d (index %d): %s" % (offset, i, d))
        self.present.add(i)
        self.last = i

    def summary(self, **extra):
        missing = 0
        if self.acked is None:
            if self.read != self.count:
                self.fail("expected %d records, read %d" % (self.count, self.read))
        else:
            lost = sorted(self.acked - self.present)
            missing = len(lost)
            if lost:
                self.errors.append("acknowledged but missing: %d, first %d" % (missing, lost[0]))
        out = {
            "mode": "consume" if self.acked is None else "verify",
            "count": self.count,
            "read": self.read,
            "present": len(self.present),
            "acked": len(self.acked or ()),
            "missing": missing,
            "mismatches": self.mismatches,
            "ok": self.mismatches == 0 and missing == 0,
            "errors": self.errors,
        }
        out.update(extra)
        return out


def parse_args(client, default_profile="full"):
    ap = argparse.ArgumentParser(prog=client, description="interop client (docs/interop.md)")
    ap.add_argument("mode", choices=["produce", "consume", "verify"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True, help="comma-separated topics")
    ap.add_argument("--compression", default="none", help="one codec, or one per topic")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--base-ts", type=int, required=True)
    ap.add_argument("--acked-file")
    ap.add_argument("--allow-failures", action="store_true")
    ap.add_argument("--timeout-ms", type=int, default=60000)
    ap.add_argument("--profile", choices=["full", "no-null-headers"], default=default_profile,
                    help="no-null-headers: the scheme without null header values")
    a = ap.parse_args()
    a.null_header_values = a.profile == "full"
    a.topics = a.topic.split(",")
    codecs = a.compression.split(",")
    if len(codecs) == 1:
        codecs = codecs * len(a.topics)
    if len(codecs) != len(a.topics):
        ap.error("--compression needs one codec per topic")
    a.codecs = codecs
    return a


def read_acked(path):
    with open(path) as f:
        return {int(line) for line in f if line.strip()}


def write_acked(path, acked):
    with open(path, "w") as f:
        f.write("".join("%d\n" % i for i in sorted(acked)))


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def scheme_digest(count, base, null_header_values=True):
    """SHA-256 over records 0..count-1 in the canonical layout of records.ts's schemeDigest()."""
    import hashlib
    import struct

    h = hashlib.sha256()

    def put(b):
        h.update(struct.pack(">i", -1 if b is None else len(b)))
        if b is not None:
            h.update(b)

    for i in range(count):
        put(key_of(i))
        put(value_of(i))
        hs = headers_of(i, null_header_values)
        h.update(struct.pack(">i", len(hs)))
        for k, v in hs:
            put(k.encode())
            put(v)
        h.update(struct.pack(">q", base + i))
    return h.hexdigest()


if __name__ == "__main__":
    # python3 records.py <count> <base> [full|no-null-headers]: prints the scheme digest.
    prof = sys.argv[3] if len(sys.argv) > 3 else "full"
    print(scheme_digest(int(sys.argv[1]), int(sys.argv[2]), prof == "full"))
