// Consumer groups with the reference client, Apache Kafka's Java consumer (kafka-clients 4.x from
// test/interop/java's build, classic group protocol) using the CooperativeStickyAssignor: the shared
// scenario of groups-scenario.ts. The member program below is compiled with javac against that
// build's class path (target/lib) into a temporary folder.

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { run } from '../helpers/run.js';
import { describeReport, groupBrokerOverrides, runGroupScenario } from './groups-scenario.js';
import {
  javaClientJar,
  requireAll,
  skipUnless,
  targetName,
  tool,
  withBrokerLogs,
  withTempDir,
} from './harness.js';

const requirements = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('javac', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
];

const member = String.raw`
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.*;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** One group member; args: bootstrap groupId topic name sessionTimeoutMs delayMs. Prints the scenario's lines. */
public class GroupMember {
  static synchronized void out(String json) {
    System.out.println(json);
    System.out.flush();
  }

  static String owned(Set<Integer> parts) {
    StringJoiner j = new StringJoiner(",", "[", "]");
    for (int p : parts) j.add(Integer.toString(p));
    return "{\"ev\":\"assigned\",\"partitions\":" + j + "}";
  }

  public static void main(String[] a) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", a[0]);
    p.put("group.id", a[1]);
    p.put("client.id", a[3]);
    p.put("key.deserializer", ByteArrayDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    p.put("enable.auto.commit", "false");
    p.put("auto.offset.reset", "earliest");
    p.put("session.timeout.ms", a[4]);
    p.put("heartbeat.interval.ms", "300");
    p.put("partition.assignment.strategy", CooperativeStickyAssignor.class.getName());
    p.put("fetch.max.wait.ms", "100");
    p.put("max.poll.records", "20");
    long delayMs = Long.parseLong(a[5]);
    String topic = a[2];
    Set<Integer> owned = new TreeSet<>();
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
    final boolean[] stopping = {false};
    Thread main = Thread.currentThread();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopping[0] = true;
      consumer.wakeup();
      try { main.join(10_000); } catch (InterruptedException e) { }
    }));
    consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
      public void onPartitionsRevoked(Collection<TopicPartition> parts) {
        for (TopicPartition tp : parts) owned.remove(tp.partition());
        out(owned(owned));
      }
      public void onPartitionsAssigned(Collection<TopicPartition> parts) {
        for (TopicPartition tp : parts) owned.add(tp.partition());
        out(owned(owned));
      }
      public void onPartitionsLost(Collection<TopicPartition> parts) {
        onPartitionsRevoked(parts);
      }
    });
    try {
      while (!stopping[0]) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
        // Per partition of this batch: the next record not yet processed.
        Map<TopicPartition, Long> next = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          next.putIfAbsent(tp, r.offset());
        }
        for (ConsumerRecord<byte[], byte[]> r : records) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          out("{\"ev\":\"msg\",\"p\":" + r.partition() + ",\"o\":" + r.offset() + "}");
          if (delayMs > 0) Thread.sleep(delayMs);
          try {
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(r.offset() + 1)));
            next.put(tp, r.offset() + 1);
            out("{\"ev\":\"commit\",\"p\":" + r.partition() + ",\"o\":" + (r.offset() + 1) + "}");
          } catch (CommitFailedException | RebalanceInProgressException e) {
            // The client is mid-rebalance: read again from the first uncommitted record of each
            // partition of this batch (this one included) once poll() has finished the rebalance.
            out("{\"ev\":\"commit-failed\",\"p\":" + r.partition() + ",\"o\":" + r.offset() + ",\"error\":\"" + e.getClass().getSimpleName() + "\"}");
            for (Map.Entry<TopicPartition, Long> e2 : next.entrySet()) consumer.seek(e2.getKey(), e2.getValue());
            break;
          }
        }
      }
    } catch (WakeupException e) {
      // SIGTERM: fall through to a clean close.
    }
    consumer.close();
    out("{\"ev\":\"left\"}");
  }
}
`;

describe(`interop: Java consumer group against ${targetName()}`, { skip: skipUnless(requirements) }, () => {
  let broker: BrokerHandle | undefined;
  let classPath = '';

  before(async () => {
    requireAll(requirements);
    const jar = await javaClientJar();
    classPath = `${join(dirname(jar), 'lib')}/*`;
    broker = await startTarget({ overrides: groupBrokerOverrides });
  });

  after(async () => {
    await broker?.destroy();
  });

  test('members share partitions, survive a leave and a kill, and committed offsets survive a restart', {
    timeout: 300_000,
  }, async (t) => {
    const b = broker!;
    await withBrokerLogs(b, () =>
      withTempDir(async (dir) => {
        writeFileSync(join(dir, 'GroupMember.java'), member);
        await run('javac', ['-cp', classPath, '-d', dir, join(dir, 'GroupMember.java')], {
          timeoutMs: 120_000,
        });
        const cp = `${dir}:${classPath}`;
        const report = await runGroupScenario(b, 'java', 'cooperative-sticky', (cfg) => ({
          cmd: 'java',
          args: [
            '-cp',
            cp,
            'GroupMember',
            cfg.bootstrap,
            cfg.groupId,
            cfg.topic,
            cfg.name,
            `${cfg.sessionTimeoutMs}`,
            `${cfg.delayMs}`,
          ],
        }));
        t.diagnostic(describeReport('java', report));
      }),
    );
  });
});
