"""confluent-kafka's newer serde API against `samsa registry` and a Samsa broker.

Usage: schema_registry_serde.py REGISTRY_URL BOOTSTRAP TOPIC COUNT

confluent_kafka.schema_registry.avro.AvroSerializer / AvroDeserializer (present in Debian's python3-confluent-kafka
1.7; they need fastavro, which Debian does not package: .ci/run installs it from PyPI) with SerializingProducer and
DeserializingConsumer: COUNT/2 records written with schema v1, COUNT/2 with v2 (a new optional field); each
serializer registers its schema itself (auto.register.schemas) under TOPIC-value. Then every record is read back
raw (magic byte 0 and the schema id on each) and through AvroDeserializer, which fetches each writer schema from
the registry by id. Prints one JSON object with what it saw.
"""

import json
import struct
import sys

from confluent_kafka import Consumer, DeserializingConsumer, SerializingProducer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import StringDeserializer, StringSerializer

url, bootstrap, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
out = {}

V1 = {"type": "record", "name": "Reading", "namespace": "io.samsa.test",
      "fields": [{"name": "sensor", "type": "string"}, {"name": "value", "type": "double"}]}
V2 = {**V1, "fields": V1["fields"] + [{"name": "unit", "type": ["null", "string"], "default": None}]}

sr = SchemaRegistryClient({"url": url})


def expected(i):
    v = {"sensor": f"s{i % 7}", "value": i / 4}
    if i >= count // 2:
        v["unit"] = "C" if i % 2 else None
    return v


def produce(schema, first, last):
    p = SerializingProducer({"bootstrap.servers": bootstrap,
                             "key.serializer": StringSerializer("utf_8"),
                             "value.serializer": AvroSerializer(sr, json.dumps(schema))})
    for i in range(first, last):
        p.produce(topic=topic, key=str(i), value=expected(i))
    p.flush(30)


produce(V1, 0, count // 2)
produce(V2, count // 2, count)
out["versions"] = sr.get_versions(f"{topic}-value")
out["ids"] = [sr.get_version(f"{topic}-value", v).schema_id for v in out["versions"]]

raw = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-raw", "auto.offset.reset": "earliest"})
raw.subscribe([topic])
wire = {}
while len(wire) < count:
    m = raw.poll(10)
    if m is None:
        break
    if m.error():
        continue
    wire[int(m.key())] = list(struct.unpack(">bI", m.value()[:5]))
raw.close()
out["wire_first"] = wire.get(0)
out["wire_last"] = wire.get(count - 1)

consumer = DeserializingConsumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-serde",
                                  "auto.offset.reset": "earliest",
                                  "key.deserializer": StringDeserializer("utf_8"),
                                  "value.deserializer": AvroDeserializer(sr)})
consumer.subscribe([topic])
values = {}
while len(values) < count:
    m = consumer.poll(10)
    if m is None:
        break
    if m.error():
        continue
    values[int(m.key())] = m.value()
consumer.close()
out["consumed"] = len(values)
bad = [i for i in range(count) if values.get(i) != expected(i)]
out["mismatched"] = len(bad)
out["first_bad"] = {"i": bad[0], "got": values.get(bad[0]), "want": expected(bad[0])} if bad else None
print(json.dumps(out))
