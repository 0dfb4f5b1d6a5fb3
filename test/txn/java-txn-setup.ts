// The set-up the Java transaction tests (java-txn, java-txn-v2) share: what they need installed, one broker per
// describe block with the transactional sessions its tests start (all killed, the broker destroyed, after the
// block), and the consume-transform-produce scenario in which the processor dies mid-transaction.

import assert from 'node:assert/strict';
import { after, before, type TestContext } from 'node:test';
import type { BrokerHandle } from '../helpers/broker.js';
import { requireAll, tool } from '../interop/harness.js';
import {
  duplicates,
  JavaTxnSession,
  javaRead,
  makeTopic,
  producePlain,
  startProcessor,
} from './txn-clients.js';

export const javaTxnRequirements = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('javac', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
];

export interface JavaTxnBroker {
  readonly broker: BrokerHandle | undefined;
  readonly bootstrap: string;
  /** A transactional session with transactional.id `${id}-${run}`, killed after the describe block. */
  session(id: string, opts?: { transactionTimeoutMs?: number }): Promise<JavaTxnSession>;
}

/**
 * Registers before/after hooks in the calling describe block: checks the requirements, starts the broker with
 * `start` (then runs `started`, if given), and at the end kills the sessions and destroys the broker.
 */
export function javaTxnBroker(
  run: string,
  start: () => Promise<BrokerHandle>,
  started?: (bootstrap: string) => Promise<void>,
): JavaTxnBroker {
  let broker: BrokerHandle | undefined;
  let bootstrap = '';
  const sessions: JavaTxnSession[] = [];

  before(async () => {
    requireAll(javaTxnRequirements);
    broker = await start();
    bootstrap = broker.bootstrap;
    await started?.(bootstrap);
  });

  after(async () => {
    await Promise.all(sessions.map((s) => s.kill9()));
    await broker?.destroy();
  });

  return {
    get broker() {
      return broker;
    },
    get bootstrap() {
      return bootstrap;
    },
    async session(id, opts = {}) {
      const s = await JavaTxnSession.start(bootstrap, `${id}-${run}`, opts);
      sessions.push(s);
      return s;
    },
  };
}

/**
 * Exactly-once consume-transform-produce with sendOffsetsToTransaction: a processor commits some transactions,
 * writes a batch it never commits and is killed; a second with the same transactional.id fences it, aborts its
 * open transaction, resumes at the committed offsets and reads the input to its end. Every input record is in
 * the output once under read_committed. Topics `${prefix}-ctp-in-${run}` and `${prefix}-ctp-out-${run}`.
 */
export async function consumeTransformProduceThroughKill(
  t: TestContext,
  bootstrap: string,
  prefix: string,
  run: string,
): Promise<{ output: string; values: string[] }> {
  const input = `${prefix}-ctp-in-${run}`;
  const output = `${prefix}-ctp-out-${run}`;
  const group = `${prefix}-ctp-${run}`;
  const transactionalId = `${prefix}-ctp-${run}`;
  await makeTopic(bootstrap, input, 2);
  await makeTopic(bootstrap, output, 2);
  const values = await producePlain(bootstrap, input, 2, 'in', 100);

  const first = await startProcessor({ bootstrap, input, output, group, transactionalId, hangAfter: 60 });
  try {
    await first.waitFor(/^H$/, 90_000);
  } finally {
    await first.kill9();
  }
  const before = first.committed();
  assert.ok(before >= 60 && before < values.length, `first run committed ${before}`);

  const second = await startProcessor({ bootstrap, input, output, group, transactionalId });
  const end = await second.done;
  assert.equal(end.code, 0, `second run failed:\n${end.stderr.slice(-3000)}`);
  t.diagnostic(`first run committed ${before}, the second ${second.committed()} of ${values.length}`);

  const out = await javaRead(bootstrap, output, 'read_committed', { minCount: values.length });
  assert.deepEqual(duplicates(out.values), [], 'read_committed output has duplicates');
  assert.deepEqual(
    [...out.values].sort(),
    values.map((v) => `out:${v}`).sort(),
    'every input record transformed exactly once',
  );
  return { output, values };
}
