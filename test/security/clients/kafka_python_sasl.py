"""kafka-python over a SASL listener: produces COUNT records to TOPIC and reads them back.

  kafka_python_sasl.py BOOTSTRAP TOPIC COUNT PROTOCOL MECHANISM USER PASSWORD [CAFILE]

Debian's python3-kafka 2.0.2 authenticates with SaslHandshake v0 followed by raw SASL tokens (no Kafka
framing), the path older clients use. Prints {"produced": n, "consumed": n, "values": [...]} as JSON.
"""

import json
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap, topic, count, protocol, mechanism, user, password = sys.argv[1:8]
cafile = sys.argv[8] if len(sys.argv) > 8 else None
common = dict(
    bootstrap_servers=bootstrap,
    security_protocol=protocol,
    sasl_mechanism=mechanism,
    sasl_plain_username=user,
    sasl_plain_password=password,
    api_version_auto_timeout_ms=10000,
)
if cafile:
    common.update(ssl_cafile=cafile, ssl_check_hostname=False)
p = KafkaProducer(acks="all", **common)
values = [f"v{i}" for i in range(int(count))]
for v in values:
    p.send(topic, value=v.encode(), partition=0)
p.flush(timeout=30)
p.close()
c = KafkaConsumer(consumer_timeout_ms=10000, enable_auto_commit=False, **common)
tp = TopicPartition(topic, 0)
c.assign([tp])
c.seek_to_beginning(tp)
got = []
for m in c:
    got.append(m.value.decode())
    if len(got) >= len(values):
        break
c.close()
print(json.dumps({"produced": len(values), "consumed": len(got), "values": got}))
