"""confluent-kafka (librdkafka) over TLS and SASL: several cases in one process.

  confluent_kafka_secure.py CASES.json

CASES.json is a list of {"name", "topic", "count", "expect": "ok"|"auth-failure", "config": {librdkafka keys}}.
An ok case produces COUNT records "NAME-i" to partition 0 with acks=all and the idempotent producer, then reads
partition 0 from the beginning until it has them all. An auth-failure case expects the producer's metadata
request to fail with an authentication error. Prints one JSON line per case:
{"case": NAME, "acked": n, "consumed": n, "ok": bool, "error": str|null}; exits 1 if any case failed.
"""

import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition


def produce(config, topic, name, count):
    errors = []
    acked = [0]

    def on_delivery(err, _msg):
        if err is None:
            acked[0] += 1
        else:
            errors.append(str(err))

    p = Producer({**config, "acks": "all", "enable.idempotence": True, "linger.ms": 5})
    for i in range(count):
        p.produce(topic, value=f"{name}-{i}".encode(), partition=0, on_delivery=on_delivery)
        p.poll(0)
    left = p.flush(60)
    if left:
        errors.append(f"{left} records not delivered")
    return acked[0], errors[0] if errors else None


def consume(config, topic, name, count):
    c = Consumer({**config, "group.id": f"secure-{name}", "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(topic, 0, 0)])
    seen = 0
    deadline = time.time() + 60
    while seen < count and time.time() < deadline:
        m = c.poll(0.5)
        if m is None or m.error() is not None:
            continue
        if m.value().decode() == f"{name}-{seen}":
            seen += 1
    c.close()
    return seen


def auth_failure(config, topic):
    errors = []
    p = Producer({**config, "error_cb": lambda e: errors.append(e)})
    try:
        p.list_topics(topic, timeout=10)
    except KafkaException as e:
        errors.append(e.args[0])
    # The authentication error reaches error_cb from poll(); list_topics may fail first with a transport error.
    deadline = time.time() + 10
    while time.time() < deadline and not any(e.code() == KafkaError._AUTHENTICATION for e in errors):
        p.poll(0.2)
    auth = [e for e in errors if e.code() == KafkaError._AUTHENTICATION]
    return (str(auth[0]) if auth else None), [str(e) for e in errors]


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    all_ok = True
    for case in cases:
        out = {"case": case["name"], "acked": 0, "consumed": 0, "ok": False, "error": None}
        try:
            if case.get("expect", "ok") == "auth-failure":
                err, seen = auth_failure(case["config"], case["topic"])
                out["ok"] = err is not None
                out["error"] = err if err is not None else "; ".join(seen) or "no error"
            else:
                out["acked"], out["error"] = produce(case["config"], case["topic"], case["name"], case["count"])
                out["consumed"] = consume(case["config"], case["topic"], case["name"], case["count"])
                out["ok"] = out["acked"] == case["count"] and out["consumed"] == case["count"]
        except Exception as e:  # noqa: BLE001 - reported as the case's error
            out["error"] = repr(e)
        all_ok = all_ok and out["ok"]
        print(json.dumps(out), flush=True)
    sys.exit(0 if all_ok else 1)


main()
