"""Transactions on confluent-kafka-python (librdkafka), for test/txn/confluent-kafka-txn.test.ts.

  confluent_kafka_txn.py --bootstrap H:P --topic T --group G --transactional-id ID

On a topic with 2 partitions: commits "c1-<p>-<i>" (5 per partition), aborts "a1-<p>-<i>" (4 per partition),
then commits "c2-<p>-<i>" (3 per partition) together with the group offset {T-0: 7} (send_offsets_to_transaction).
Then a zombie check: a second producer with the same transactional.id initialises while the first has a
transaction open; the first one's commit must fail as fenced. Finally reads T back under read_committed and
read_uncommitted (each partition to its end: the LSO or the high watermark) and the group's committed offsets.
Prints one JSON line: {"committed": [...], "uncommitted": [...], "offsets": {"0": n, ...}, "zombie": "..."}.
Runs on Debian's python3-confluent-kafka (/usr/bin/python3).
"""

import argparse
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition


def producer(a, transactional_id):
    p = Producer({
        "bootstrap.servers": a.bootstrap,
        "client.id": "samsa-txn-confluent",
        "transactional.id": transactional_id,
        "transaction.timeout.ms": 10000,
        "linger.ms": 5,
    })
    p.init_transactions(30)
    return p


def send(p, topic, prefix, count):
    for part in (0, 1):
        for i in range(count):
            p.produce(topic, value=("%s-%d-%d" % (prefix, part, i)).encode(), partition=part)
    p.flush(30)


def read(a, isolation):
    c = Consumer({
        "bootstrap.servers": a.bootstrap,
        "group.id": "samsa-txn-reader",  # required by the binding; no group API is used (assign)
        "isolation.level": isolation,
        "enable.auto.commit": False,
        "enable.partition.eof": True,
    })
    c.assign([TopicPartition(a.topic, p, OFFSET_BEGINNING) for p in (0, 1)])
    values, eof, deadline = [], set(), time.monotonic() + 30
    while len(eof) < 2 and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                eof.add(m.partition())
                continue
            raise KafkaException(m.error())
        values.append(m.value().decode())
    c.close()
    if len(eof) < 2:
        raise SystemExit("read %s: partitions %s not at their end within 30 s" % (isolation, sorted(eof)))
    return values


def committed_offsets(a):
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group, "enable.auto.commit": False})
    got = c.committed([TopicPartition(a.topic, p) for p in (0, 1)], timeout=30)
    c.close()
    return {str(tp.partition): tp.offset for tp in got}


def main():
    ap = argparse.ArgumentParser()
    for name in ("bootstrap", "topic", "group", "transactional-id"):
        ap.add_argument("--" + name, required=True)
    a = ap.parse_args()

    p = producer(a, a.transactional_id)
    p.begin_transaction()
    send(p, a.topic, "c1", 5)
    p.commit_transaction(30)
    p.begin_transaction()
    send(p, a.topic, "a1", 4)
    p.abort_transaction(30)
    p.begin_transaction()
    send(p, a.topic, "c2", 3)
    meta = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group}).consumer_group_metadata()
    p.send_offsets_to_transaction([TopicPartition(a.topic, 0, 7)], meta, 30)
    p.commit_transaction(30)

    # The zombie: its open transaction is aborted when the successor initialises; its commit is fenced.
    zombie = producer(a, a.transactional_id + "-zombie")
    zombie.begin_transaction()
    zombie.produce(a.topic, value=b"zombie", partition=0)
    zombie.flush(30)
    successor = producer(a, a.transactional_id + "-zombie")
    try:
        zombie.commit_transaction(30)
        fenced = "not fenced: the commit succeeded"
    except KafkaException as e:
        err = e.args[0]
        fenced = "%s fatal=%s" % (err.name(), err.fatal())
    successor.begin_transaction()
    successor.produce(a.topic, value=b"successor", partition=1)
    successor.commit_transaction(30)

    out = {
        "committed": read(a, "read_committed"),
        "uncommitted": read(a, "read_uncommitted"),
        "offsets": committed_offsets(a),
        "zombie": fenced,
    }
    print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
