// Failover time (R2 rows): kill -9 of a partition leader during acks=all production, to the next acknowledged
// write to that partition. The same probe runs against both clusters: bench/kafka/FailoverProducer.java, Kafka's
// Java producer with its defaults (acks=all, idempotence, retries) writing round-robin to every partition at a
// fixed rate and printing each silence in a partition's acknowledgements ("gap P FROM TO", epoch ms).
//
//   1. topic: 6 partitions, RF 3, min.insync.replicas 2; the probe runs until every partition has acks, then 2-4 s
//      (random, so that the time since the victim's last heartbeat is random too)
//   2. the victim: the leader of the first partition whose leader is not the controller (Kafka: partition 0,
//      its controller is a node of its own; Samsa: the controller is a broker, and killing it is a different
//      failure: the controller moves too)
//   3. t0 = Date.now(); SIGKILL. The bench polls a surviving broker's Metadata every 20 ms until it names a new
//      leader for the partition ("leader ms": detection + election + propagation to that broker)
//   4. "failover ms" = the first acknowledgement of that partition after t0 - t0, from the probe's gap line
//      (the producer's own metadata refresh and retry are in it, as an application would see them);
//      "detect ms" = when the controller acted on the death (its log) - t0: the session timeout minus the time
//      since the victim's last heartbeat/ping (0-2 s, by chance), plus each side's expiry check granularity;
//      "recover ms" = failover - detect: election, propagation and the client finding the new leader
//   5. the probe stops (every record acknowledged or failed), the victim restarts for the next run
// Both clocks are this machine's wall clock (Date.now() / System.currentTimeMillis()).

import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { type ClusterHandle, createReplicatedTopic, metadataOf } from './clusters.js';

export interface FailoverOptions {
  partitions: number;
  /** Records per second over all partitions. */
  rate: number;
  recordSize: number;
  minInsyncReplicas: number;
}

export interface FailoverMetrics {
  /** Kill -> first acknowledgement of the partition after it. */
  failoverMs: number;
  /** Kill -> the controller acts on the death (its log: session expired / broker fenced). */
  detectMs: number;
  /** Kill -> a surviving broker's Metadata names a new leader. */
  leaderMs: number;
  /** Last acknowledgement before the kill -> first after (the partition's silence). */
  gapMs: number;
  /** The longest silence of any partition that had the victim as leader, from the kill. */
  worstPartitionMs: number;
  partition: number;
  victim: number;
  sent: number;
  acked: number;
  errors: number;
}

class LineWaiter {
  readonly lines: string[] = [];
  private waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  private closed = false;

  constructor(child: ChildProcess) {
    const rl = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.on('line', (l) => {
      this.lines.push(l);
      for (const w of [...this.waiters]) {
        if (w.match(l)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    });
    rl.on('close', () => {
      this.closed = true;
    });
  }

  /** The first line (seen already or to come) that matches; rejects after ms or when the output ends. */
  wait(what: string, match: (l: string) => boolean, ms: number): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`failover probe: no ${what} within ${ms} ms${this.closed ? ' (it exited)' : ''}`));
      }, ms);
      const done = (l: string): void => {
        clearTimeout(t);
        resolve(l);
      };
      this.waiters.push({ match, resolve: done });
    });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function measureFailover(
  root: string,
  javaCp: string,
  logFile: string,
  cluster: ClusterHandle,
  topic: string,
  o: FailoverOptions,
): Promise<FailoverMetrics | string> {
  await createReplicatedTopic(cluster, topic, o.partitions, {
    'min.insync.replicas': String(o.minInsyncReplicas),
  });
  const child = spawn(
    'java',
    [
      '-Xmx256m',
      `-Dlog4j2.configurationFile=${path.join(root, 'bench', 'kafka', 'log4j2.properties')}`,
      '-cp',
      javaCp,
      path.join(root, 'bench', 'kafka', 'FailoverProducer.java'),
      cluster.bootstrap(),
      topic,
      String(o.partitions),
      String(o.rate),
      String(o.recordSize),
    ],
    { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  const out = new LineWaiter(child);
  let victim = -1;
  let stopPolling = false;
  try {
    await out.wait('acknowledgements on every partition', (l) => l === 'ready', 90_000);
    // A random moment: the victim's last heartbeat (Kafka) or ZooKeeper ping (Samsa) before the kill, which decides
    // how much of the session timeout is left, must not line up with the bench's own steps (topic creation
    // touches ZooKeeper from every Samsa broker).
    await sleep(2000 + Math.random() * 2000);
    const controller = await cluster.controllerBroker();
    const before = await metadataOf(cluster.port(cluster.running()[0] as number), [topic]);
    const parts = [...(before.topics[0]?.partitions ?? [])].sort(
      (a, b) => a.partitionIndex - b.partitionIndex,
    );
    const target = parts.find((p) => p.leaderId >= 0 && p.leaderId !== controller);
    if (target === undefined) return 'no partition led by a broker other than the controller';
    victim = target.leaderId;
    const led = parts.filter((p) => p.leaderId === victim).map((p) => p.partitionIndex);
    const survivor = cluster.running().find((id) => id !== victim) as number;

    const t0 = Date.now();
    await cluster.kill9(victim);
    let leaderAt = Number.NaN;
    const polling = (async () => {
      while (!stopPolling) {
        try {
          const m = await metadataOf(cluster.port(survivor), [topic]);
          const p = m.topics[0]?.partitions.find((x) => x.partitionIndex === target.partitionIndex);
          if (p !== undefined && p.leaderId >= 0 && p.leaderId !== victim) {
            leaderAt = Date.now();
            return;
          }
        } catch {}
        await sleep(20);
      }
    })();
    const gapAfter = (p: number) => (l: string) => {
      const f = l.split(' ');
      return f[0] === 'gap' && Number(f[1]) === p && Number(f[3]) > t0;
    };
    const gap = (
      await out.wait(
        `an acknowledgement of partition ${target.partitionIndex}`,
        gapAfter(target.partitionIndex),
        120_000,
      )
    ).split(' ');
    // The other partitions the victim led recover in the same election, give them a moment to show it.
    let worst = Number(gap[3]) - t0;
    for (const p of led) {
      const l = await out.wait(`an acknowledgement of partition ${p}`, gapAfter(p), 10_000).catch(() => null);
      if (l !== null) worst = Math.max(worst, Number(l.split(' ')[3]) - t0);
    }
    await Promise.race([polling, sleep(5000)]);
    stopPolling = true;
    child.stdin?.write('stop\n');
    const summary = JSON.parse(await out.wait('summary', (l) => l.startsWith('{'), 60_000)) as {
      sent: number;
      acked: number;
      errors: number;
    };
    return {
      failoverMs: Number(gap[3]) - t0,
      detectMs: (cluster.detectedAt(victim, t0) ?? Number.NaN) - t0,
      leaderMs: leaderAt - t0,
      gapMs: Number(gap[3]) - Number(gap[2]),
      worstPartitionMs: worst,
      partition: target.partitionIndex,
      victim,
      sent: summary.sent,
      acked: summary.acked,
      errors: summary.errors,
    };
  } catch (e) {
    return `${e instanceof Error ? e.message : String(e)} | ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
  } finally {
    stopPolling = true;
    if (child.exitCode === null) {
      child.stdin?.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 40_000);
      await exited;
      clearTimeout(t);
    }
    fs.writeFileSync(logFile, `${out.lines.join('\n')}\n--- stderr\n${stderr}`);
    if (victim >= 0 && !cluster.running().includes(victim)) await cluster.restart(victim);
  }
}
