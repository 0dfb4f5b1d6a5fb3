"""Confluent's Python clients against `samsa registry` and a Samsa broker.

Usage: schema_registry_client.py REGISTRY_URL BOOTSTRAP TOPIC COUNT

1. confluent_kafka.schema_registry.SchemaRegistryClient (Debian's python3-confluent-kafka, over requests):
   register v1, re-register (same id), lookup, an incompatible change refused (409), a compatible one
   accepted, test_compatibility, set/get compatibility.
2. confluent_kafka.avro.AvroProducer / AvroConsumer (the serializer that works with Debian's python3-avro;
   the newer AvroSerializer needs fastavro, which Debian does not package): COUNT Avro records produced to
   TOPIC through librdkafka, each prefixed with magic byte 0 and the schema id the registry gave, then
   consumed from the start and decoded back through the registry.
Prints one JSON object with what it saw.
"""

import json
import struct
import sys

from confluent_kafka import Consumer
from confluent_kafka.avro import AvroConsumer, AvroProducer, loads
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

url, bootstrap, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
subject = f"{topic}-value"
out = {}

V1 = {"type": "record", "name": "Payment", "namespace": "io.samsa.test",
      "fields": [{"name": "id", "type": "long"}, {"name": "amount", "type": "double"}]}
V2 = {**V1, "fields": V1["fields"] + [{"name": "currency", "type": "string", "default": "EUR"}]}
BAD = {**V1, "fields": V1["fields"] + [{"name": "region", "type": "string"}]}

sr = SchemaRegistryClient({"url": url})
id1 = sr.register_schema(subject, Schema(json.dumps(V1), "AVRO"))
out["id1"] = id1
out["id1_again"] = sr.register_schema(subject, Schema(json.dumps(V1, indent=2), "AVRO"))
reg = sr.lookup_schema(subject, Schema(json.dumps(V1), "AVRO"))
out["lookup"] = {"id": reg.schema_id, "version": reg.version, "subject": reg.subject}
try:
    sr.register_schema(subject, Schema(json.dumps(BAD), "AVRO"))
    out["incompatible"] = None
except SchemaRegistryError as e:
    out["incompatible"] = {"http_status": e.http_status_code, "error_code": e.error_code}
out["bad_is_compatible"] = sr.test_compatibility(subject, Schema(json.dumps(BAD), "AVRO"))
out["v2_is_compatible"] = sr.test_compatibility(subject, Schema(json.dumps(V2), "AVRO"))
out["id2"] = sr.register_schema(subject, Schema(json.dumps(V2), "AVRO"))
latest = sr.get_latest_version(subject)
out["latest"] = {"id": latest.schema_id, "version": latest.version}
out["versions"] = sr.get_versions(subject)
out["subjects"] = sr.get_subjects()
out["set_compatibility"] = sr.set_compatibility(subject, "FULL")
out["get_compatibility"] = sr.get_compatibility(subject)
out["schema_by_id"] = json.loads(sr.get_schema(id1).schema_str)

# Avro through librdkafka: the legacy serializer registers the value schema itself (same schema: same id).
producer = AvroProducer({"bootstrap.servers": bootstrap, "schema.registry.url": url},
                        default_value_schema=loads(json.dumps(V2)))
for i in range(count):
    producer.produce(topic=topic, value={"id": i, "amount": i * 1.5, "currency": "SEK"})
producer.flush(30)

raw = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-raw", "auto.offset.reset": "earliest"})
raw.subscribe([topic])
ids = set()
seen = 0
while seen < count:
    m = raw.poll(10)
    if m is None:
        break
    if m.error():
        continue
    magic, schema_id = struct.unpack(">bI", m.value()[:5])
    ids.add((magic, schema_id))
    seen += 1
raw.close()
out["wire_ids"] = sorted([list(x) for x in ids])

consumer = AvroConsumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-avro",
                         "auto.offset.reset": "earliest", "schema.registry.url": url})
consumer.subscribe([topic])
values = []
while len(values) < count:
    m = consumer.poll(10)
    if m is None:
        break
    if m.error():
        continue
    values.append(m.value())
consumer.close()
out["consumed"] = len(values)
out["decoded_ok"] = all(v == {"id": i, "amount": i * 1.5, "currency": "SEK"} for i, v in enumerate(values))
out["first"] = values[0] if values else None
print(json.dumps(out))
