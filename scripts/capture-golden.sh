#!/usr/bin/env bash
# Re-captures the golden frames in test/protocol/golden/ from real clients talking to real Apache
# Kafka through the recording proxy (scripts/capture-golden.ts). Needs Java + Maven (Kafka jars
# via scripts/kafka-dist.sh), kcat, /usr/bin/python3 with confluent_kafka and kafka, and the Java
# interop jar (test/interop/java). Not run by CI: the captured files are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
KPORT=39092 PPORT=39093 DIR=/tmp/samsa-golden-kafka
LIBS=$(bash scripts/kafka-dist.sh | tail -1)
rm -rf test/protocol/golden.new
bash scripts/kafka-start.sh --port $KPORT --dir $DIR --fresh --daemon \
  --override "advertised.listeners=PLAINTEXT://127.0.0.1:$PPORT" >/dev/null
trap 'bash scripts/kafka-stop.sh --dir $DIR >/dev/null 2>&1 || true; kill $PROXY 2>/dev/null || true' EXIT

proxy() { # client-name
  node --import tsx scripts/capture-golden.ts --client "$1" --listen $PPORT --target 127.0.0.1:$KPORT \
    --out test/protocol/golden.new 2>>/tmp/capture.log &
  PROXY=$!
  sleep 1.5
}
stop_proxy() { kill $PROXY; wait $PROXY 2>/dev/null || true; }
B=127.0.0.1:$PPORT

proxy kcat
printf 'k1:v1\nk2:v2\n:nokey\n' | kcat -b $B -P -t g-kcat -K: -H h1=x -X compression.codec=lz4
kcat -b $B -C -t g-kcat -e -q >/dev/null
kcat -b $B -L >/dev/null
timeout 15 kcat -b $B -G g-kcat-group g-kcat -e -q >/dev/null 2>&1 || true
stop_proxy

proxy java
JAR="test/interop/java/target/samsa-interop.jar:test/interop/java/target/lib/*"
TS=$(date +%s000)
java -cp "$JAR" samsa.interop.InteropClient produce --bootstrap $B --topic g-java --compression zstd --count 20 --base-ts $TS >/dev/null
java -cp "$JAR" samsa.interop.InteropClient consume --bootstrap $B --topic g-java --count 20 --base-ts $TS >/dev/null
java -cp "$LIBS/*" org.apache.kafka.tools.TopicCommand --bootstrap-server $B --create --topic g-java-admin --partitions 2 --config retention.ms=1000000 >/dev/null
java -cp "$LIBS/*" org.apache.kafka.tools.TopicCommand --bootstrap-server $B --describe --topic g-java-admin >/dev/null
java -cp "$LIBS/*" org.apache.kafka.tools.ConsumerPerformance --bootstrap-server $B --topic g-java --messages 20 --timeout 20000 >/dev/null 2>&1 || true
java -cp "$LIBS/*" org.apache.kafka.tools.TopicCommand --bootstrap-server $B --delete --topic g-java-admin >/dev/null
stop_proxy

proxy confluent-kafka
/usr/bin/python3 - "$B" <<'PY'
import sys
from confluent_kafka import Producer, Consumer
from confluent_kafka.admin import AdminClient, NewTopic
b = sys.argv[1]
a = AdminClient({'bootstrap.servers': b})
a.create_topics([NewTopic('g-ck', 3, 1)])['g-ck'].result()
p = Producer({'bootstrap.servers': b, 'compression.codec': 'snappy', 'enable.idempotence': True})
for i in range(10):
    p.produce('g-ck', key=b'k%d' % i, value=b'v%d' % i, headers=[('h', b'x')])
p.flush(10)
c = Consumer({'bootstrap.servers': b, 'group.id': 'g-ck-group', 'auto.offset.reset': 'earliest',
              'partition.assignment.strategy': 'cooperative-sticky'})
c.subscribe(['g-ck'])
n = 0
while n < 10:
    m = c.poll(10)
    if m is None: break
    if not m.error(): n += 1
c.commit(asynchronous=False)
c.close()
PY
stop_proxy

proxy kafka-python
/usr/bin/python3 - "$B" <<'PY'
import sys
from kafka import KafkaProducer, KafkaConsumer
b = sys.argv[1]
p = KafkaProducer(bootstrap_servers=b, compression_type='gzip')
for i in range(10):
    p.send('g-kp', key=b'k%d' % i, value=b'v%d' % i, headers=[('h', b'x')])
p.flush()
c = KafkaConsumer('g-kp', bootstrap_servers=b, group_id='g-kp-group', auto_offset_reset='earliest', consumer_timeout_ms=8000)
n = 0
for m in c:
    n += 1
    if n == 10: break
c.commit()
c.close()
PY
stop_proxy

proxy kafkajs
cat > /tmp/golden-kafkajs.mjs <<'JS'
import { createRequire } from 'node:module';
const require = createRequire(process.cwd() + '/package.json');
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');
const kafka = new Kafka({ brokers: [process.argv[2]], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: 'g-kjs', numPartitions: 2 }] });
await admin.describeConfigs({ resources: [{ type: 2, name: 'g-kjs' }], includeSynonyms: true });
const p = kafka.producer({ idempotent: true });
await p.connect();
await p.send({ topic: 'g-kjs', compression: CompressionTypes.GZIP, messages: [{ key: 'k', value: 'v', headers: { h: 'x' } }, { value: null }] });
await p.disconnect();
const c = kafka.consumer({ groupId: 'g-kjs-group' });
await c.connect();
await c.subscribe({ topic: 'g-kjs', fromBeginning: true });
let n = 0;
await new Promise((resolve) => { c.run({ eachMessage: async () => { if (++n === 2) resolve(); } }); });
await c.disconnect();
await admin.fetchTopicOffsets('g-kjs');
await admin.deleteTopics({ topics: ['g-kjs'] });
await admin.disconnect();
JS
timeout 60 node /tmp/golden-kafkajs.mjs "$B"
stop_proxy

rm -rf test/protocol/golden && mv test/protocol/golden.new test/protocol/golden
echo "captured $(find test/protocol/golden -name '*.json' | wc -l) frames"
