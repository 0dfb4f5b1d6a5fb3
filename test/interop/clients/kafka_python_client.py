"""Interop client on kafka-python (pure Python): produces and reads back the shared record scheme
(records.py, docs/interop.md). Same command line and JSON output as the Java client:

  kafka_python_client.py produce|consume|verify --bootstrap H:P --topic T[,T2] --count N
      --base-ts MS [--compression C[,C2]] [--acked-file F] [--allow-failures]

Runs on Debian's python3-kafka 2.0.2 (/usr/bin/python3), which has no idempotent producer (acks=all
only) and cannot send a null header value: its default profile is no-null-headers. Codecs: none and gzip always; snappy, lz4, zstd with python3-snappy, python3-lz4,
python3-zstandard.
"""

import os
import sys
import time

# KafkaProducer.send() asserts "Need at least one: key or value", but a record with a null key and a
# null value is valid Kafka (a tombstone without a key) and part of the scheme; the encoder handles
# it. Asserts are the only thing in the way, so run without them.
if __debug__:
    os.execv(sys.executable, [sys.executable, "-O", *sys.argv])

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

import records  # noqa: E402

CLIENT = "kafka-python"


def produce(a, topic, codec):
    p = KafkaProducer(
        bootstrap_servers=a.bootstrap,
        client_id="samsa-interop-kafka-python",
        acks="all",
        compression_type=None if codec == "none" else codec,
        linger_ms=5,
        retries=5,
        max_in_flight_requests_per_connection=1,  # no idempotence here: keep retries in order
    )
    acked, failed, first_error = set(), [0], [None]

    def ok_cb(i):
        return lambda _md: acked.add(i)

    def err_cb(i):
        def cb(e):
            failed[0] += 1
            if first_error[0] is None:
                first_error[0] = "%d: %r" % (i, e)
        return cb

    start = time.monotonic()
    for i in range(a.count):
        f = p.send(topic, key=records.key_of(i), value=records.value_of(i), headers=records.headers_of(i, a.null_header_values),
                   timestamp_ms=a.base_ts + i)
        f.add_callback(ok_cb(i))
        f.add_errback(err_cb(i))
    p.flush(timeout=a.timeout_ms / 1000)
    p.close(timeout=10)
    ms = int((time.monotonic() - start) * 1000)
    if a.acked_file:
        records.write_acked(a.acked_file, acked)
    unknown = a.count - len(acked) - failed[0]
    if unknown:
        failed[0] += unknown
        first_error[0] = first_error[0] or "%d records neither acknowledged nor failed" % unknown
    ok = failed[0] == 0 or a.allow_failures
    records.emit({"client": CLIENT, "mode": "produce", "topic": topic, "compression": codec, "count": a.count,
                  "acked": len(acked), "failed": failed[0], "ms": ms, "ok": ok, "error": first_error[0]})
    return ok


def consume(a, topic, acked):
    v = records.Verifier(a.count, a.base_ts, acked, a.null_header_values)
    start = time.monotonic()
    low = high = -1
    c = None
    try:
        c = KafkaConsumer(
            bootstrap_servers=a.bootstrap,
            client_id="samsa-interop-kafka-python",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            check_crcs=True,
        )
        parts = c.partitions_for_topic(topic) or set()
        if len(parts) != 1:
            v.fail("expected 1 partition, found %d" % len(parts))
        tp = TopicPartition(topic, 0)
        c.assign([tp])
        c.seek_to_beginning(tp)
        low = c.beginning_offsets([tp])[tp]
        high = c.end_offsets([tp])[tp]
        if acked is None and (low != 0 or high != a.count):
            v.fail("offsets: expected [0, %d), found [%d, %d)" % (a.count, low, high))
        deadline = start + a.timeout_ms / 1000
        while c.position(tp) < high:
            if time.monotonic() > deadline:
                v.fail("timed out at offset %d of %d" % (c.position(tp), high))
                break
            for batch in c.poll(timeout_ms=500, max_records=5000).values():
                for m in batch:
                    if m.offset < high:
                        v.add(m.offset, m.key, m.value, m.headers, m.timestamp)
    except Exception as e:  # noqa: BLE001 - reported in the summary
        v.fail(repr(e))
    finally:
        if c is not None:
            c.close()
    s = v.summary(client=CLIENT, topic=topic, startOffset=low, endOffset=high,
                  ms=int((time.monotonic() - start) * 1000))
    records.emit(s)
    return s["ok"]


def main():
    a = records.parse_args(CLIENT, "no-null-headers")
    ok = True
    if a.mode == "produce":
        for topic, codec in zip(a.topics, a.codecs):
            ok &= produce(a, topic, codec)
    else:
        acked = records.read_acked(a.acked_file) if a.mode == "verify" else None
        for topic in a.topics:
            ok &= consume(a, topic, acked)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
