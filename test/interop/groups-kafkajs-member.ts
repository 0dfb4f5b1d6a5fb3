// One kafkajs consumer-group member, run as a child process by groups-kafkajs.test.ts so that the
// test can kill it for real (SIGKILL: no LeaveGroup, no last commit) or stop it cleanly (SIGTERM:
// consumer.disconnect(), which commits and sends LeaveGroup).
//
// Configured by the SAMSA_GROUP_MEMBER environment variable (JSON); does nothing without it, so the
// test runner may load this file harmlessly. Reports on stdout as groups-scenario.ts describes (stdout
// is a pipe, written synchronously on Linux, so every line written before a SIGKILL arrives).

import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

interface MemberConfig {
  bootstrap: string;
  groupId: string;
  topic: string;
  name: string;
  sessionTimeoutMs: number;
  /** Processing time per record, so that a kill lands mid-stream. */
  delayMs: number;
}

const out = (o: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

async function runMember(cfg: MemberConfig): Promise<void> {
  const kafka = new Kafka({
    clientId: cfg.name,
    brokers: [cfg.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 60, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const consumer = kafka.consumer({
    groupId: cfg.groupId,
    sessionTimeout: cfg.sessionTimeoutMs,
    heartbeatInterval: 300,
    rebalanceTimeout: 10_000,
    maxWaitTimeInMs: 200,
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const p = e.payload as { memberId: string; leaderId: string; memberAssignment: Record<string, number[]> };
    out({
      ev: 'assigned',
      memberId: p.memberId,
      leaderId: p.leaderId,
      partitions: p.memberAssignment[cfg.topic] ?? [],
    });
  });
  consumer.on(consumer.events.COMMIT_OFFSETS, (e) => {
    const p = e.payload as unknown as {
      topics: { partitions: { partition: number | string; offset: string }[] }[];
    };
    for (const t of p.topics)
      for (const x of t.partitions) out({ ev: 'commit', p: Number(x.partition), o: Number(x.offset) });
  });
  consumer.on(consumer.events.CRASH, (e) => {
    out({ ev: 'crash', error: String((e.payload as { error: unknown }).error) });
  });
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    consumer.disconnect().then(
      () => {
        out({ ev: 'left' });
        process.exit(0);
      },
      (err: unknown) => {
        out({ ev: 'error', error: String(err) });
        process.exit(1);
      },
    );
  });
  await consumer.connect();
  await consumer.subscribe({ topic: cfg.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      out({ ev: 'msg', p: partition, o: Number(message.offset) });
      if (cfg.delayMs > 0) await new Promise((r) => setTimeout(r, cfg.delayMs));
    },
  });
}

const config = process.env.SAMSA_GROUP_MEMBER;
if (config !== undefined) {
  runMember(JSON.parse(config) as MemberConfig).catch((err: unknown) => {
    out({ ev: 'error', error: String(err) });
    process.exit(1);
  });
}
