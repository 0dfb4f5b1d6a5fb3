// Connection creation rates (KIP-612) on a real broker process, over real sockets, measured. The quota window is
// 2 samples of 1 s (quota.window.num=2), so a rate R allows a burst of about R x 1 s before throttling.
//   - max.connection.creation.rate=5 (set dynamically): 40 connections opened at once are served over at least
//     (40 - 5) / 5 = 7 s (the acceptor takes them as the rate allows); an existing connection keeps being answered
//     meanwhile.
//   - connection_creation_rate=2 on the IP 127.0.0.2 (AlterClientQuotas): of a burst of 10 connections from that
//     address (Linux routes all of 127/8 to lo; the client socket is bound to it), 2 are served and the others are
//     closed unanswered after a delay; connections from 127.0.0.1 are not affected; one log line for the burst.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { alterConfigs } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { alterClientQuotas } from '../../src/client/quotas.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';

const BROKER_RESOURCE = 4;

/** An ApiVersions v0 request frame. */
function apiVersionsFrame(correlationId: number): Buffer {
  const clientId = Buffer.from('conn-rate');
  const body = Buffer.alloc(10 + clientId.length);
  body.writeInt16BE(ApiKey.ApiVersions, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(correlationId, 4);
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

interface Outcome {
  answered: boolean;
  /** ms from the start of the burst to the answer or the close. */
  ms: number;
}

/** Connects (from localAddress), sends ApiVersions and resolves when it is answered or the socket closes. */
function tryRequest(port: number, localAddress: string, t0: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    let got = Buffer.alloc(0);
    let done = false;
    const finish = (answered: boolean): void => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ answered, ms: performance.now() - t0 });
    };
    socket.on('connect', () => socket.write(apiVersionsFrame(1)));
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) finish(true);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

describe('connection creation rates (KIP-612)', { timeout: 60_000 }, () => {
  let broker: BrokerHandle;
  let cluster: Cluster;

  before(async () => {
    broker = await startBroker({ overrides: { 'quota.window.num': '2', 'quota.window.size.seconds': '1' } });
    cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
  });

  after(async () => {
    cluster?.close();
    await broker?.destroy();
  });

  it('max.connection.creation.rate holds new connections back; an open connection is served meanwhile', async () => {
    await alterConfigs(cluster, BROKER_RESOURCE, '', { set: { 'max.connection.creation.rate': '5' } });
    const N = 40;
    const RATE = 5;
    const t0 = performance.now();
    let burstDone = false;
    let requests = 0;
    let maxLatency = 0;
    const served = (async () => {
      while (!burstDone) {
        const s = performance.now();
        await cluster.request(ApiKey.ApiVersions, {});
        const ms = performance.now() - s;
        requests++;
        maxLatency = Math.max(maxLatency, ms);
        await sleep(20); // a well-behaved client: a request every 20 ms
      }
    })();
    const outcomes = await Promise.all(
      Array.from({ length: N }, () => tryRequest(broker.port, '127.0.0.1', t0)),
    );
    const elapsed = performance.now() - t0;
    burstDone = true;
    await served;
    await alterConfigs(cluster, BROKER_RESOURCE, '', { delete: ['max.connection.creation.rate'] });
    console.log(
      `${N} connections at max.connection.creation.rate=${RATE}: all answered after ${Math.round(elapsed)} ms; ` +
        `existing connection: ${requests} requests, max latency ${Math.round(maxLatency)} ms`,
    );
    assert.equal(
      outcomes.filter((o) => o.answered).length,
      N,
      'every held-back connection is served in the end',
    );
    const expectedMs = ((N - RATE) / RATE) * 1000;
    assert.ok(elapsed >= expectedMs * 0.85, `served within ${elapsed} ms, expected at least ~${expectedMs}`);
    assert.ok(elapsed < expectedMs * 2, `took ${elapsed} ms, expected about ${expectedMs}`);
    // Spread over the whole time, not all at once at the end.
    const early = outcomes.filter((o) => o.ms < elapsed / 2).length;
    assert.ok(early > 5 && early < N - 5, `${early} of ${N} answered in the first half`);
    assert.ok(requests >= 20, `the existing connection got ${requests} answers`);
    assert.ok(maxLatency < 1000, `the existing connection waited ${maxLatency} ms`);
  });

  it('an IP over its connection_creation_rate has its excess connections closed after a delay', async () => {
    await alterClientQuotas(cluster, [{ entity: { ip: '127.0.0.2' }, set: { connection_creation_rate: 2 } }]);
    const t0 = performance.now();
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => tryRequest(broker.port, '127.0.0.2', t0)),
    );
    const answered = burst.filter((o) => o.answered);
    const closed = burst.filter((o) => !o.answered);
    // Meanwhile 127.0.0.1 (no quota) connects freely.
    const others = await Promise.all(
      Array.from({ length: 5 }, () => tryRequest(broker.port, '127.0.0.1', t0)),
    );
    console.log(
      `connection_creation_rate=2 on 127.0.0.2, burst of 10: ${answered.length} served, ${closed.length} closed ` +
        `after ${closed.map((o) => Math.round(o.ms)).join(', ')} ms`,
    );
    assert.equal(answered.length, 2);
    assert.equal(closed.length, 8);
    for (const o of closed) assert.ok(o.ms >= 200 && o.ms < 2000, `closed after ${o.ms} ms`);
    assert.equal(others.filter((o) => o.answered).length, 5, '127.0.0.1 is not throttled');
    await broker.waitForLog(/connection_creation_rate quota/, 5000);
    const lines = broker
      .logs()
      .split('\n')
      .filter((l) => /over its connection_creation_rate/.test(l));
    assert.equal(lines.length, 1, `one log line for the burst: ${lines.join('\n')}`);
    // Removing the quota lets the IP in again.
    await alterClientQuotas(cluster, [{ entity: { ip: '127.0.0.2' }, remove: ['connection_creation_rate'] }]);
    const again = await Promise.all(
      Array.from({ length: 10 }, () => tryRequest(broker.port, '127.0.0.2', t0)),
    );
    assert.equal(again.filter((o) => o.answered).length, 10);
  });
});
