// Consumer groups with the Python clients: confluent-kafka (librdkafka) with the cooperative-sticky
// assignor (incremental rebalancing, KIP-429: the broker only relays the assignment) and kafka-python
// (eager, range). Each runs the shared scenario of groups-scenario.ts; the member programs are below
// and are written to a temporary folder (they speak the scenario's line protocol).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { describeReport, groupBrokerOverrides, runGroupScenario } from './groups-scenario.js';
import {
  python,
  pythonModule,
  requireAll,
  skipUnless,
  targetName,
  withBrokerLogs,
  withTempDir,
} from './harness.js';

const common = String.raw`
import json, os, signal, sys, time

cfg = json.loads(os.environ["SAMSA_GROUP_MEMBER"])
stopping = [False]
owned = set()

def out(o):
    sys.stdout.write(json.dumps(o) + "\n")
    sys.stdout.flush()

def on_term(_sig, _frame):
    stopping[0] = True

signal.signal(signal.SIGTERM, on_term)
`;

/** confluent-kafka: cooperative-sticky; the library assigns incrementally after the callbacks. */
const confluentMember = `${common}
from confluent_kafka import Consumer, KafkaException, TopicPartition

def on_assign(c, parts):
    owned.update(p.partition for p in parts)
    out({"ev": "assigned", "partitions": sorted(owned)})

def on_revoke(c, parts):
    owned.difference_update(p.partition for p in parts)
    out({"ev": "assigned", "partitions": sorted(owned)})

c = Consumer({
    "bootstrap.servers": cfg["bootstrap"],
    "group.id": cfg["groupId"],
    "client.id": cfg["name"],
    "partition.assignment.strategy": "cooperative-sticky",
    "session.timeout.ms": cfg["sessionTimeoutMs"],
    "heartbeat.interval.ms": 300,
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    "fetch.wait.max.ms": 100,
})
c.subscribe([cfg["topic"]], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
while not stopping[0]:
    msg = c.poll(0.1)
    if msg is None:
        continue
    if msg.error():
        out({"ev": "error", "error": str(msg.error())})
        continue
    out({"ev": "msg", "p": msg.partition(), "o": msg.offset()})
    time.sleep(cfg["delayMs"] / 1000.0)
    try:
        c.commit(message=msg, asynchronous=False)
        out({"ev": "commit", "p": msg.partition(), "o": msg.offset() + 1})
    except KafkaException as e:
        # Mid-rebalance: read the record again (here, or where the partition goes).
        out({"ev": "commit-failed", "p": msg.partition(), "o": msg.offset(), "error": str(e)})
        try:
            c.seek(TopicPartition(msg.topic(), msg.partition(), msg.offset()))
        except KafkaException:
            pass
c.close()
out({"ev": "left"})
`;

/** kafka-python: eager rebalancing, range assignor, synchronous commits. */
const kafkaPythonMember = `${common}
from kafka import KafkaConsumer, OffsetAndMetadata
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import CommitFailedError, KafkaError

class Listener(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        owned.clear()
        out({"ev": "assigned", "partitions": []})

    def on_partitions_assigned(self, assigned):
        owned.clear()
        owned.update(tp.partition for tp in assigned)
        out({"ev": "assigned", "partitions": sorted(owned)})

c = KafkaConsumer(
    bootstrap_servers=cfg["bootstrap"],
    group_id=cfg["groupId"],
    client_id=cfg["name"],
    session_timeout_ms=cfg["sessionTimeoutMs"],
    heartbeat_interval_ms=300,
    enable_auto_commit=False,
    auto_offset_reset="earliest",
    fetch_max_wait_ms=100,
    max_poll_records=20,
)
c.subscribe([cfg["topic"]], listener=Listener())
while not stopping[0]:
    batches = c.poll(timeout_ms=100)
    for tp, msgs in batches.items():
        for m in msgs:
            if stopping[0]:
                break
            out({"ev": "msg", "p": m.partition, "o": m.offset})
            time.sleep(cfg["delayMs"] / 1000.0)
            try:
                c.commit({tp: OffsetAndMetadata(m.offset + 1, None)})
                out({"ev": "commit", "p": m.partition, "o": m.offset + 1})
            except (CommitFailedError, KafkaError) as e:
                # Mid-rebalance: read this batch again from here (here, or where the partition goes).
                out({"ev": "commit-failed", "p": m.partition, "o": m.offset, "error": str(e)})
                try:
                    c.seek(tp, m.offset)
                except Exception:
                    pass
                break
c.close()
out({"ev": "left"})
`;

for (const [client, module, deb, protocol, program] of [
  ['confluent-kafka', 'confluent_kafka', 'python3-confluent-kafka', 'cooperative-sticky', confluentMember],
  ['kafka-python', 'kafka', 'python3-kafka', 'range', kafkaPythonMember],
] as const) {
  const requirements = [pythonModule(module, deb)];
  describe(`interop: ${client} consumer group against ${targetName()}`, {
    skip: skipUnless(requirements),
  }, () => {
    let broker: BrokerHandle | undefined;

    before(async () => {
      requireAll(requirements);
      broker = await startTarget({ overrides: groupBrokerOverrides });
    });

    after(async () => {
      await broker?.destroy();
    });

    test('members share partitions, survive a leave and a kill, and committed offsets survive a restart', {
      timeout: 240_000,
    }, async (t) => {
      const b = broker!;
      await withBrokerLogs(b, () =>
        withTempDir(async (dir) => {
          const script = join(dir, `${module}_member.py`);
          writeFileSync(script, program);
          const report = await runGroupScenario(b, client, protocol, () => ({
            cmd: python,
            args: ['-u', script],
          }));
          t.diagnostic(describeReport(client, report));
        }),
      );
    });
  });
}
