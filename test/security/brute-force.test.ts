/**
 * Brute force cannot slow other clients: while a separate process guesses passwords as fast as it can (PLAIN and
 * SCRAM-SHA-512, many connections at once), a well-behaved client authenticated with SCRAM keeps producing with a
 * latency and a rate close to its baseline. The broker answers every guess with SASL_AUTHENTICATION_FAILED, closes
 * the connection after connection.failed.authentication.delay.ms, keeps serving, and logs the failures without
 * the passwords. SCRAM costs the broker no PBKDF2 (it keeps the salted keys), only two HMACs per guess.
 *
 * The ratios are printed as diagnostics (SAMSA_BRUTE_FORCE_MS sets each measuring window, default 3000 ms).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import type { ClientSecurity } from '../../src/client/connection.js';
import { Producer } from '../../src/client/producer.js';
import { type BrokerHandle, freePort, startBroker } from '../helpers/broker.js';
import { start } from '../helpers/run.js';
import { addScramUser } from './secure-clients.js';

const WINDOW_MS = Number(process.env.SAMSA_BRUTE_FORCE_MS ?? 3000);
const ATTACKERS = 16;
const GUESS_PREFIX = 'guess-7f3a9c-';
const here = fileURLToPath(import.meta.url);
const attackerFile = join(here, '..', 'clients', `sasl-attacker${extname(here)}`);
const attackerArgs = extname(here) === '.ts' ? ['--import', 'tsx', attackerFile] : [attackerFile];

interface Sample {
  sends: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** Sends one record at a time for ms milliseconds; each send's latency. */
async function measure(p: Producer, topic: string, ms: number): Promise<Sample> {
  const latencies: number[] = [];
  const began = performance.now();
  while (performance.now() - began < ms) {
    const t0 = performance.now();
    await p.send(topic, [{ value: `v${latencies.length}`, partition: 0 }]);
    latencies.push(performance.now() - t0);
  }
  const elapsed = performance.now() - began;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] as number;
  return {
    sends: latencies.length,
    perSecond: (latencies.length * 1000) / elapsed,
    p50: at(0.5),
    p99: at(0.99),
  };
}

/** The CPU time (user + system, ms) a process has used, from /proc (Linux). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const fmt = (s: Sample) =>
  `${s.sends} sends, ${s.perSecond.toFixed(0)}/s, p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms`;

describe('SASL brute force', { timeout: 120_000 }, () => {
  let broker: BrokerHandle;
  /** Another broker process with the same listener, for the control attack. */
  let other: BrokerHandle & { port: number };
  const ports = { plain: 0, sasl: 0 };

  before(async () => {
    ports.plain = await freePort();
    ports.sasl = await freePort();
    const saslOverrides = (plain: number, sasl: number) => ({
      listeners: `PLAINTEXT://127.0.0.1:${plain},SASL_PLAINTEXT://127.0.0.1:${sasl}`,
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
      'listener.name.sasl_plaintext.sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-512',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config':
        'org.apache.kafka.common.security.plain.PlainLoginModule required user_victim="victim-plain-secret";',
      // Kafka's default, said explicitly: the broker holds a failed connection this long before closing it.
      'connection.failed.authentication.delay.ms': '100',
    });
    broker = await startBroker({ port: ports.plain, overrides: saslOverrides(ports.plain, ports.sasl) });
    const otherPlain = await freePort();
    const otherSasl = await freePort();
    other = Object.assign(
      await startBroker({ port: otherPlain, overrides: saslOverrides(otherPlain, otherSasl) }),
      {
        port: otherSasl,
      },
    );
    await addScramUser(`127.0.0.1:${otherPlain}`, 'victim', 'victim-scram-secret', 'SCRAM-SHA-512');
    await addScramUser(`127.0.0.1:${ports.plain}`, 'victim', 'victim-scram-secret', 'SCRAM-SHA-512');
    await addScramUser(`127.0.0.1:${ports.plain}`, 'good', 'good-secret', 'SCRAM-SHA-512');
    const admin = await Cluster.connect({ bootstrap: `127.0.0.1:${ports.plain}` });
    try {
      await createTopic(admin, 'latency', { partitions: 1 });
    } finally {
      admin.close();
    }
  });

  after(async () => {
    await broker?.destroy();
    await other?.destroy();
  });

  /** Measures the good client while the attacker hammers `port` (the broker `target`'s SASL listener). */
  async function underAttack(p: Producer, port: number, target: BrokerHandle) {
    const attacker = start(
      process.execPath,
      [
        ...attackerArgs,
        '127.0.0.1',
        String(port),
        String(WINDOW_MS + 1500),
        String(ATTACKERS),
        'victim',
        GUESS_PREFIX,
      ],
      { timeoutMs: WINDOW_MS + 30_000 },
    );
    // Measure once the guesses are coming (the attacker's first refusal).
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (attacker.stderr().includes('attacking')) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
      attacker.done.then(
        () => {
          clearInterval(timer);
          resolve();
        },
        (e: unknown) => {
          clearInterval(timer);
          reject(e);
        },
      );
    });
    const cpu0 = cpuMs(target.pid());
    const sample = await measure(p, 'latency', WINDOW_MS);
    const brokerCpu = (cpuMs(target.pid()) - cpu0) / WINDOW_MS;
    const done = await attacker.done;
    const report = JSON.parse(done.stdout.trim().split('\n').pop() as string) as {
      attempts: number;
      refused: number;
      errors: number;
      firstError: string | null;
    };
    return { sample, brokerCpu, report };
  }

  test('a client produces at close to its baseline while wrong passwords are hammered', async (t) => {
    const security: ClientSecurity = {
      protocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'good', password: 'good-secret' },
    };
    const p = await Producer.connect({ bootstrap: `127.0.0.1:${ports.sasl}`, acks: -1, security });
    try {
      await measure(p, 'latency', 500); // warm-up
      const before = await measure(p, 'latency', WINDOW_MS);
      const control = await underAttack(p, other.port, other);
      const attack = await underAttack(p, ports.sasl, broker);
      const afterwards = await measure(p, 'latency', WINDOW_MS);
      // The baseline: the mean of the windows before and after (the machine's other load drifts).
      const baseline: Sample = {
        sends: before.sends + afterwards.sends,
        perSecond: (before.perSecond + afterwards.perSecond) / 2,
        p50: (before.p50 + afterwards.p50) / 2,
        p99: (before.p99 + afterwards.p99) / 2,
      };
      const attacked = attack.sample;
      const report = attack.report;
      const rateRatio = attacked.perSecond / baseline.perSecond;
      const p99Ratio = attacked.p99 / baseline.p99;
      t.diagnostic(`before: ${fmt(before)}; after: ${fmt(afterwards)}`);
      t.diagnostic(
        `control (the attacker hammers another broker process): ${fmt(control.sample)}; that broker's CPU ${(control.brokerCpu * 100).toFixed(0)}% of a core, ${control.report.attempts} guesses`,
      );
      t.diagnostic(
        `under attack: ${fmt(attacked)}; broker CPU ${(attack.brokerCpu * 100).toFixed(0)}% of a core`,
      );
      const controlRatio = attacked.perSecond / control.sample.perSecond;
      t.diagnostic(`rate under attack / rate under the control attack: ${controlRatio.toFixed(2)}`);
      t.diagnostic(
        `attacker: ${report.attempts} guesses in ~${WINDOW_MS + 1500} ms from ${ATTACKERS} loops (${((report.attempts * 1000) / (WINDOW_MS + 1500)).toFixed(0)}/s), ${report.refused} refused, ${report.errors} errors`,
      );
      t.diagnostic(
        `ratios under attack: rate ${rateRatio.toFixed(2)}, p50 ${(attacked.p50 / baseline.p50).toFixed(2)}, p99 ${p99Ratio.toFixed(2)}`,
      );
      // The attack was real: hundreds of guesses, every completed one refused.
      assert.ok(report.attempts >= 200, JSON.stringify(report));
      assert.equal(report.refused, report.attempts, JSON.stringify(report));
      // Generous bounds (2 shared cores, the attacker's own CPU included): the good client keeps most of its rate.
      // The attacker's own CPU slows everything on the machine: the control attack (on another broker process)
      // measures that share; attacking this broker must cost the good client not much more than that.
      assert.ok(rateRatio >= 0.1, `rate under attack ${fmt(attacked)} vs ${fmt(baseline)}`);
      assert.ok(controlRatio >= 0.4, `rate under attack ${fmt(attacked)} vs control ${fmt(control.sample)}`);
      assert.ok(
        attacked.p99 <= Math.max(10 * control.sample.p99, 10 * baseline.p99, 100),
        `p99 ${fmt(attacked)} vs ${fmt(baseline)}`,
      );
    } finally {
      await p.close();
    }
    // The broker still serves new logins, and logged the failures without any password.
    const again = await Producer.connect({ bootstrap: `127.0.0.1:${ports.sasl}`, acks: -1, security });
    await again.send('latency', [{ value: 'after', partition: 0 }]);
    await again.close();
    await broker.waitForLog(
      /SASL authentication failed: Authentication failed: Invalid (username or password|user credentials)/,
    );
    const logs = broker.logs();
    assert.ok(!logs.includes(GUESS_PREFIX), 'a guessed password reached the log');
    assert.ok(
      !logs.includes('good-secret') && !logs.includes('victim-plain-secret'),
      'a password reached the log',
    );
  });
});
