"""Interop client on confluent-kafka-python (librdkafka): produces and reads back the shared
record scheme (records.py, docs/interop.md). Same command line and JSON output as the Java client:

  confluent_kafka_client.py produce|consume|verify --bootstrap H:P --topic T[,T2] --count N
      --base-ts MS [--compression C[,C2]] [--acked-file F] [--allow-failures]

Runs on Debian's python3-confluent-kafka (/usr/bin/python3). Codecs: none gzip snappy lz4 zstd.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition  # noqa: E402

import records  # noqa: E402

CLIENT = "confluent-kafka"


def pin_none():
    """confluent-kafka 1.x's Message.headers() hands out None for a null header value without taking
    a reference to it, so reading many such headers drives None's refcount to zero and CPython aborts
    ("Fatal Python error: none_dealloc"). A client bug, not a broker one: give None a huge refcount
    (as CPython 3.12 does by making it immortal) so the test reads on."""
    import confluent_kafka

    if int(confluent_kafka.version()[0].split(".")[0]) < 2 and sys.version_info < (3, 12):
        import ctypes

        ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40


def produce(a, topic, codec):
    p = Producer({
        "bootstrap.servers": a.bootstrap,
        "client.id": "samsa-interop-confluent",
        "acks": "all",
        "enable.idempotence": True,
        "compression.codec": codec,
        "linger.ms": 5,
    })
    acked, failed, first_error = set(), [0], [None]

    def on_delivery(i):
        def cb(err, _msg):
            if err is None:
                acked.add(i)
            else:
                failed[0] += 1
                if first_error[0] is None:
                    first_error[0] = "%d: %s" % (i, err)
        return cb

    start = time.monotonic()
    for i in range(a.count):
        while True:
            try:
                p.produce(topic, key=records.key_of(i), value=records.value_of(i), headers=records.headers_of(i, a.null_header_values),
                          timestamp=a.base_ts + i, on_delivery=on_delivery(i))
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    remaining = p.flush(a.timeout_ms / 1000)
    if remaining:
        failed[0] += remaining
        first_error[0] = first_error[0] or "%d records still queued after flush" % remaining
    ms = int((time.monotonic() - start) * 1000)
    if a.acked_file:
        records.write_acked(a.acked_file, acked)
    ok = failed[0] == 0 or a.allow_failures
    records.emit({"client": CLIENT, "mode": "produce", "topic": topic, "compression": codec, "count": a.count,
                  "acked": len(acked), "failed": failed[0], "ms": ms, "ok": ok, "error": first_error[0]})
    return ok


def consume(a, topic, acked):
    pin_none()
    c = Consumer({
        "bootstrap.servers": a.bootstrap,
        "client.id": "samsa-interop-confluent",
        "group.id": "samsa-interop-unused",  # required by the Python binding; no group API is used (assign)
        "enable.auto.commit": False,
        "enable.partition.eof": False,
        "check.crcs": True,
    })
    v = records.Verifier(a.count, a.base_ts, acked, a.null_header_values)
    start = time.monotonic()
    low = high = -1
    try:
        parts = c.list_topics(topic, timeout=a.timeout_ms / 1000).topics[topic].partitions
        if len(parts) != 1:
            v.fail("expected 1 partition, found %d" % len(parts))
        low, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=a.timeout_ms / 1000)
        if acked is None and (low != 0 or high != a.count):
            v.fail("offsets: expected [0, %d), found [%d, %d)" % (a.count, low, high))
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        deadline = start + a.timeout_ms / 1000
        next_offset = low
        while next_offset < high:
            if time.monotonic() > deadline:
                v.fail("timed out at offset %d of %d" % (next_offset, high))
                break
            for m in c.consume(1000, timeout=0.5):
                if m.error() is not None:
                    if m.error().code() != KafkaError._PARTITION_EOF:
                        v.fail("consume error: %s" % m.error())
                    continue
                if m.offset() >= high:
                    continue
                next_offset = m.offset() + 1
                v.add(m.offset(), m.key(), m.value(), m.headers(), m.timestamp()[1])
    except Exception as e:  # noqa: BLE001 - reported in the summary
        v.fail(repr(e))
    finally:
        c.close()
    s = v.summary(client=CLIENT, topic=topic, startOffset=low, endOffset=high,
                  ms=int((time.monotonic() - start) * 1000))
    records.emit(s)
    return s["ok"]


def main():
    a = records.parse_args(CLIENT)
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
