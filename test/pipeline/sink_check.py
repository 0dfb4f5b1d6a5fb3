#!/usr/bin/env python3
"""Reads what `samsa sink` wrote the way a data-lake reader does, and checks it against the produced records.

usage: sink_check.py DIR FORMAT TOPIC N BASE_MS STEP_MS PARTITION_BY

The records of test/pipeline/sink.test.ts: record i has timestamp BASE_MS + ((i * 7919) % N) * STEP_MS, key
b"k<i>" (None when i % 97 == 1), value b"<i>:" padded with b"x" to 1024 bytes (None when i % 101 == 2 and i % 97
!= 1), headers [("idx", b"<i>"), ("nil", None)] (none when i % 5 == 0). The timestamp says which i a row is.
Prints one JSON object: rows, distinct, files, folders, errors (the first 20 mismatches), reader.
"""

import base64
import datetime
import json
import os
import sys

root, fmt, topic, n, base, step, partition_by = sys.argv[1:8]
n, base, step = int(n), int(base), int(step)
index_of = {((i * 7919) % n): i for i in range(n)}
errors = []


def err(msg):
    if len(errors) < 20:
        errors.append(msg)


def expected(i):
    key = None if i % 97 == 1 else b"k%d" % i
    value = None if (i % 101 == 2 and i % 97 != 1) else (b"%d:" % i).ljust(1024, b"x")
    headers = [] if i % 5 == 0 else [{"key": "idx", "value": b"%d" % i}, {"key": "nil", "value": None}]
    return key, value, headers


def folder_of(ts):
    d = datetime.datetime.fromtimestamp(ts / 1000, tz=datetime.timezone.utc)
    if partition_by == "none":
        return ""
    day = "date=%04d-%02d-%02d" % (d.year, d.month, d.day)
    return day if partition_by == "day" else "%s/hour=%02d" % (day, d.hour)


def hidden(name):
    return name.startswith(".") or name.startswith("_")


files = []
hidden_files = []
for dirpath, _dirs, names in os.walk(os.path.join(root, topic)):
    for name in names:
        (hidden_files if hidden(name) else files).append(os.path.join(dirpath, name))

seen = set()
indexes = set()
rows = 0
folders = set()
reader = None


def check_row(path, r):
    global rows
    rows += 1
    rel = os.path.relpath(os.path.dirname(path), os.path.join(root, topic))
    rel = "" if rel == "." else rel
    folders.add(rel)
    name = os.path.basename(path)
    stem = name.rsplit(".", 1)[0]
    t, p, first, last = stem.rsplit("-", 3)
    if t != topic or int(p) != r["partition"] or not (int(first) <= r["offset"] <= int(last)):
        err("%s holds %s-%d@%d outside its name" % (name, r["topic"], r["partition"], r["offset"]))
    if r["topic"] != topic:
        err("topic %r" % r["topic"])
    tp = (r["topic"], r["partition"], r["offset"])
    if tp in seen:
        err("duplicate %r" % (tp,))
    seen.add(tp)
    ts = r["timestamp"]
    q, rem = divmod(ts - base, step)
    i = index_of.get(q) if rem == 0 else None
    if i is None:
        err("unexpected timestamp %d at %r" % (ts, tp))
        return
    indexes.add(i)
    key, value, headers = expected(i)
    if r["key"] != key:
        err("record %d: key %r != %r" % (i, r["key"], key))
    if r["value"] != value:
        err("record %d: value %r... != %r..." % (i, (r["value"] or b"")[:20], (value or b"")[:20]))
    if r["headers"] != headers:
        err("record %d: headers %r != %r" % (i, r["headers"], headers))
    if folder_of(ts) != rel:
        err("record %d (ts %d) in folder %r, expected %r" % (i, ts, rel, folder_of(ts)))


if fmt == "parquet":
    import pyarrow
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    reader = "pyarrow %s" % pyarrow.__version__
    # What a query engine sees: the dataset (hidden and temporary files skipped by pyarrow's own rules).
    dataset = ds.dataset(os.path.join(root, topic), format="parquet", partitioning="hive")
    listed = sorted(dataset.files)
    if sorted(f for f in files if f.endswith(".parquet")) != listed:
        err("dataset files differ from the visible .parquet files")
    counted = dataset.count_rows()
    for path in listed:
        table = pq.read_table(path)
        sch = table.schema
        if str(sch.field("timestamp").type) != "timestamp[ms, tz=UTC]":
            err("timestamp type %s" % sch.field("timestamp").type)
        if str(sch.field("partition").type) != "int32" or str(sch.field("offset").type) != "int64":
            err("partition/offset types %s %s" % (sch.field("partition").type, sch.field("offset").type))
        for r in table.to_pylist():
            r["timestamp"] = int(r["timestamp"].timestamp() * 1000)
            check_row(path, r)
    if counted != rows:
        err("dataset counts %d rows, files hold %d" % (counted, rows))
else:
    reader = "python json"
    for path in files:
        if not path.endswith(".jsonl"):
            continue
        with open(path, "rb") as f:
            for line in f:
                o = json.loads(line)
                for k in ("key", "value"):
                    o[k] = None if o[k] is None else base64.b64decode(o[k], validate=True)
                o["headers"] = [
                    {"key": h["key"], "value": None if h["value"] is None else base64.b64decode(h["value"])}
                    for h in o["headers"]
                ]
                check_row(path, o)

missing = n - len(indexes)
if missing:
    err("%d produced records missing" % missing)
print(
    json.dumps(
        {
            "rows": rows,
            "distinct": len(seen),
            "files": len(files),
            "hiddenFiles": [os.path.relpath(h, root) for h in hidden_files],
            "folders": sorted(folders),
            "errors": errors,
            "reader": reader,
        }
    )
)
