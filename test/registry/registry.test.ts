// `samsa registry` against a real Samsa broker, over HTTP: registering and evolving schemas under every
// compatibility level, lookups, soft and hard deletes, config and mode, Confluent's error codes, the
// `_schemas` records, a restart serving the same ids, and two registry processes electing one leader.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { describeConfigs, ResourceType } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Consumer } from '../../src/client/consumer.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { type RegistryHandle, sr, startRegistry } from '../helpers/registry.js';

type Field = { name: string; type: unknown; default?: unknown };
const record = (fields: Field[], name = 'Rec', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'record', name, namespace: 'io.samsa.test', fields, ...extra });
const A: Field = { name: 'a', type: 'int' };

describe('samsa registry', { timeout: 300_000 }, () => {
  let broker: BrokerHandle;
  let reg: RegistryHandle;
  const extra: RegistryHandle[] = [];

  before(async () => {
    broker = await startBroker();
    reg = await startRegistry(broker.bootstrap);
  });

  after(async () => {
    for (const r of new Set([reg, ...extra])) await r?.stop().catch(() => {});
    await broker?.destroy();
  });

  const register = (subject: string, schema: string, base = reg.url) =>
    sr(base, 'POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema });

  test('register: ids, re-registering, the same schema in another subject, lookup, reads', async () => {
    const v1 = record([A]);
    const r1 = await register('orders-value', v1);
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    const id = r1.body.id as number;
    assert.ok(Number.isInteger(id) && id >= 1);
    // Whitespace and attribute order do not make another schema.
    const spaced = JSON.stringify(JSON.parse(v1), null, 2).replace(
      '"type": "record",',
      '"type":   "record" ,',
    );
    assert.deepEqual((await register('orders-value', spaced)).body, { id });
    assert.deepEqual(
      (await register('other-value', v1)).body,
      { id },
      'same schema, another subject: same id',
    );
    assert.deepEqual((await sr(reg.url, 'GET', '/subjects/orders-value/versions')).body, [1]);

    const latest = await sr(reg.url, 'GET', '/subjects/orders-value/versions/latest');
    assert.equal(latest.status, 200);
    assert.equal(latest.body.subject, 'orders-value');
    assert.equal(latest.body.version, 1);
    assert.equal(latest.body.id, id);
    assert.deepEqual(JSON.parse(latest.body.schema).fields, [A]);
    assert.deepEqual((await sr(reg.url, 'GET', '/subjects/orders-value/versions/1/schema')).body.fields, [A]);

    const look = await sr(reg.url, 'POST', '/subjects/orders-value', { schema: spaced });
    assert.equal(look.status, 200);
    assert.equal(look.body.id, id);
    assert.equal(look.body.version, 1);
    const missing = await sr(reg.url, 'POST', '/subjects/orders-value', {
      schema: record([A, { name: 'z', type: 'int' }]),
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error_code, 40403);

    const byId = await sr(reg.url, 'GET', `/schemas/ids/${id}`);
    assert.deepEqual(JSON.parse(byId.body.schema), JSON.parse(latest.body.schema));
    assert.deepEqual((await sr(reg.url, 'GET', `/schemas/ids/${id}/subjects`)).body, [
      'orders-value',
      'other-value',
    ]);
    assert.deepEqual((await sr(reg.url, 'GET', `/schemas/ids/${id}/versions`)).body, [
      { subject: 'orders-value', version: 1 },
      { subject: 'other-value', version: 1 },
    ]);
    assert.deepEqual((await sr(reg.url, 'GET', '/schemas/types')).body, ['AVRO']);
    const subjects = (await sr(reg.url, 'GET', '/subjects')).body as string[];
    assert.ok(subjects.includes('orders-value') && subjects.includes('other-value'));
  });

  test("Confluent's error codes", async () => {
    const cases: [string, string, unknown, number, number][] = [
      ['GET', '/subjects/nope/versions', undefined, 404, 40401],
      ['GET', '/subjects/orders-value/versions/99', undefined, 404, 40402],
      ['GET', '/subjects/orders-value/versions/0', undefined, 422, 42202],
      ['GET', '/subjects/orders-value/versions/x', undefined, 422, 42202],
      ['GET', '/schemas/ids/99999', undefined, 404, 40403],
      ['POST', '/subjects/e-value/versions', { schema: '{"type":"record","name":"X"}' }, 422, 42201],
      ['POST', '/subjects/e-value/versions', { schema: 'not json' }, 422, 42201],
      ['POST', '/subjects/e-value/versions', { schema: '{"type":"object"}', schemaType: 'JSON' }, 422, 42201],
      [
        'POST',
        '/subjects/e-value/versions',
        { schema: 'syntax = "proto3";', schemaType: 'PROTOBUF' },
        422,
        42201,
      ],
      ['PUT', '/config', { compatibility: 'SIDEWAYS' }, 422, 42203],
      ['PUT', '/mode', { mode: 'WRITEONLY' }, 422, 42204],
      ['GET', '/config/orders-value', undefined, 404, 40408],
      ['GET', '/mode/orders-value', undefined, 404, 40409],
      ['GET', '/no/such/route', undefined, 404, 404],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await sr(reg.url, method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error_code, code, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(typeof r.body.message, 'string');
    }
  });

  // [level, v1, v2, v3 | null, v3 accepted] or [level, v1, v2, null, v2 accepted]
  const evolutions: { name: string; level: string; history: string[]; next: string; ok: boolean }[] = [];
  const withDefault: Field = { name: 'b', type: 'string', default: 'x' };
  const noDefault: Field = { name: 'b', type: 'string' };
  const levels = ['BACKWARD', 'FORWARD', 'FULL'];
  // [change, from, to, accepted under BACKWARD, FORWARD, FULL]
  const changes: [string, Field[], Field[], boolean, boolean, boolean][] = [
    ['add a field with a default', [A], [A, withDefault], true, true, true],
    ['add a field without a default', [A], [A, noDefault], false, true, false],
    ['remove a field without a default', [A, noDefault], [A], true, false, false],
    ['remove a field with a default', [A, withDefault], [A], true, true, true],
    ['promote int to long', [A], [{ name: 'a', type: 'long' }], true, false, false],
    [
      'promote long to double',
      [{ name: 'a', type: 'long' }],
      [{ name: 'a', type: 'double' }],
      true,
      false,
      false,
    ],
    ['change int to string', [A], [{ name: 'a', type: 'string' }], false, false, false],
    ['string to bytes', [{ name: 's', type: 'string' }], [{ name: 's', type: 'bytes' }], true, true, true],
    [
      'add an enum symbol',
      [{ name: 'e', type: { type: 'enum', name: 'E', symbols: ['A', 'B'] } }],
      [{ name: 'e', type: { type: 'enum', name: 'E', symbols: ['A', 'B', 'C'] } }],
      true,
      false,
      false,
    ],
    [
      'widen a field to a union with null',
      [{ name: 's', type: 'string' }],
      [{ name: 's', type: ['null', 'string'] }],
      true,
      false,
      false,
    ],
    [
      'rename a nested record without an alias',
      [{ name: 'n', type: { type: 'record', name: 'Inner', fields: [A] } }],
      [{ name: 'n', type: { type: 'record', name: 'Inner2', fields: [A] } }],
      false,
      false,
      false,
    ],
    [
      'rename a nested record with an alias',
      [{ name: 'n', type: { type: 'record', name: 'Inner', fields: [A] } }],
      [
        {
          name: 'n',
          type: { type: 'record', name: 'Inner2', aliases: ['io.samsa.test.Inner'], fields: [A] },
        },
      ],
      true,
      false,
      false,
    ],
  ];
  for (const [change, from, to, ...accepted] of changes) {
    levels.forEach((level, i) => {
      evolutions.push({
        name: change,
        level,
        history: [record(from)],
        next: record(to),
        ok: accepted[i] as boolean,
      });
    });
    evolutions.push({ name: change, level: 'NONE', history: [record(from)], next: record(to), ok: true });
  }
  // Transitive levels look at every version, the others at the latest only.
  const t1 = record([A]);
  const t2 = record([A, withDefault]);
  const t3 = record([A, noDefault]);
  evolutions.push({ name: 'b loses its default', level: 'BACKWARD', history: [t1, t2], next: t3, ok: true });
  evolutions.push({
    name: 'b loses its default',
    level: 'BACKWARD_TRANSITIVE',
    history: [t1, t2],
    next: t3,
    ok: false,
  });
  const f1 = record([A, noDefault]);
  const f2 = record([A, withDefault]);
  const f3 = record([A]);
  evolutions.push({ name: 'b removed', level: 'FORWARD', history: [f1, f2], next: f3, ok: true });
  evolutions.push({ name: 'b removed', level: 'FORWARD_TRANSITIVE', history: [f1, f2], next: f3, ok: false });
  evolutions.push({ name: 'b removed', level: 'FULL', history: [f1, f2], next: f3, ok: true });
  evolutions.push({ name: 'b removed', level: 'FULL_TRANSITIVE', history: [f1, f2], next: f3, ok: false });

  test('evolution under every compatibility level follows Avro schema resolution', async () => {
    let n = 0;
    for (const e of evolutions) {
      const subject = `evo-${n++}`;
      const put = await sr(reg.url, 'PUT', `/config/${subject}`, { compatibility: e.level });
      assert.deepEqual(put.body, { compatibility: e.level });
      for (const h of e.history) {
        // History is written under NONE, then the level under test applies to the next schema.
        await sr(reg.url, 'PUT', `/config/${subject}`, { compatibility: 'NONE' });
        assert.equal((await register(subject, h)).status, 200);
      }
      await sr(reg.url, 'PUT', `/config/${subject}`, { compatibility: e.level });
      const check = await sr(reg.url, 'POST', `/compatibility/subjects/${subject}/versions?verbose=true`, {
        schema: e.next,
      });
      assert.equal(check.status, 200);
      assert.equal(
        check.body.is_compatible,
        e.ok,
        `${e.name} under ${e.level}: ${JSON.stringify(check.body)}`,
      );
      assert.equal(check.body.messages.length === 0, e.ok);
      const r = await register(subject, e.next);
      if (e.ok) assert.equal(r.status, 200, `${e.name} under ${e.level}: ${JSON.stringify(r.body)}`);
      else {
        assert.equal(r.status, 409, `${e.name} under ${e.level} should be refused`);
        assert.equal(r.body.error_code, 409);
        assert.match(r.body.message, /incompatible/);
      }
    }
  });

  test('compatibility against one version; the default level is BACKWARD', async () => {
    assert.deepEqual((await sr(reg.url, 'GET', '/config')).body, { compatibilityLevel: 'BACKWARD' });
    assert.equal((await register('cv', record([A]))).status, 200);
    assert.equal((await register('cv', record([A, withDefault]))).status, 200);
    const against1 = await sr(reg.url, 'POST', '/compatibility/subjects/cv/versions/1', {
      schema: record([A, noDefault]),
    });
    assert.deepEqual(against1.body, { is_compatible: false });
    const againstLatest = await sr(
      reg.url,
      'POST',
      '/compatibility/subjects/cv/versions/latest?verbose=true',
      {
        schema: record([A, noDefault]),
      },
    );
    assert.deepEqual(againstLatest.body, { is_compatible: true, messages: [] });
    const verbose = await sr(reg.url, 'POST', '/compatibility/subjects/cv/versions/1?verbose=true', {
      schema: record([A, noDefault]),
    });
    assert.equal(verbose.body.is_compatible, false);
    assert.match(verbose.body.messages[0], /b/);
    const unknown = await sr(reg.url, 'POST', '/compatibility/subjects/none-such/versions/latest', {
      schema: record([A]),
    });
    assert.equal(unknown.body.error_code, 40401);
  });

  test('soft deletes, then hard deletes', async () => {
    const s = 'del-value';
    const ids: number[] = [];
    for (const f of [[A], [A, withDefault], [A, withDefault, { name: 'c', type: 'int', default: 1 }]]) {
      ids.push((await register(s, record(f))).body.id);
    }
    // A version: hard delete first is refused; soft, then it is gone from reads but kept with deleted=true.
    assert.equal(
      (await sr(reg.url, 'DELETE', `/subjects/${s}/versions/2?permanent=true`)).body.error_code,
      40407,
    );
    assert.deepEqual((await sr(reg.url, 'DELETE', `/subjects/${s}/versions/2`)).body, 2);
    assert.equal((await sr(reg.url, 'GET', `/subjects/${s}/versions/2`)).body.error_code, 40402);
    assert.equal((await sr(reg.url, 'GET', `/subjects/${s}/versions/2?deleted=true`)).body.id, ids[1]);
    assert.deepEqual((await sr(reg.url, 'GET', `/subjects/${s}/versions`)).body, [1, 3]);
    assert.deepEqual((await sr(reg.url, 'GET', `/subjects/${s}/versions?deleted=true`)).body, [1, 2, 3]);
    assert.equal((await sr(reg.url, 'DELETE', `/subjects/${s}/versions/2`)).body.error_code, 40406);
    assert.deepEqual((await sr(reg.url, 'DELETE', `/subjects/${s}/versions/2?permanent=true`)).body, 2);
    assert.deepEqual((await sr(reg.url, 'GET', `/subjects/${s}/versions?deleted=true`)).body, [1, 3]);

    // The subject: hard first refused; soft lists the versions; the subject is hidden unless deleted=true.
    assert.equal((await sr(reg.url, 'DELETE', `/subjects/${s}?permanent=true`)).body.error_code, 40405);
    assert.deepEqual((await sr(reg.url, 'DELETE', `/subjects/${s}`)).body, [1, 3]);
    assert.ok(!((await sr(reg.url, 'GET', '/subjects')).body as string[]).includes(s));
    assert.ok(((await sr(reg.url, 'GET', '/subjects?deleted=true')).body as string[]).includes(s));
    assert.equal((await sr(reg.url, 'GET', `/subjects/${s}/versions`)).body.error_code, 40401);
    assert.equal((await sr(reg.url, 'DELETE', `/subjects/${s}`)).body.error_code, 40404);
    // Schemas by id stay readable while a soft-deleted version holds them.
    assert.equal((await sr(reg.url, 'GET', `/schemas/ids/${ids[0]}`)).status, 200);
    // Registering again after a soft delete: a new version number, the same id.
    const again = await register(s, record([A]));
    assert.equal(again.body.id, ids[0]);
    assert.deepEqual((await sr(reg.url, 'GET', `/subjects/${s}/versions`)).body, [4]);
    assert.deepEqual((await sr(reg.url, 'DELETE', `/subjects/${s}`)).body, [4]);
    assert.deepEqual((await sr(reg.url, 'DELETE', `/subjects/${s}?permanent=true`)).body, [1, 3, 4]);
    assert.ok(!((await sr(reg.url, 'GET', '/subjects?deleted=true')).body as string[]).includes(s));
    assert.equal((await sr(reg.url, 'GET', `/subjects/${s}/versions?deleted=true`)).body.error_code, 40401);
    // ids[2] was held by that subject only: gone.
    assert.equal((await sr(reg.url, 'GET', `/schemas/ids/${ids[2]}`)).body.error_code, 40403);
    // After a hard delete the subject starts again at version 1.
    assert.equal((await register(s, record([A]))).status, 200);
    assert.deepEqual((await sr(reg.url, 'GET', `/subjects/${s}/versions`)).body, [1]);
  });

  test('config: global and per subject', async () => {
    assert.deepEqual((await sr(reg.url, 'PUT', '/config', { compatibility: 'FULL' })).body, {
      compatibility: 'FULL',
    });
    assert.deepEqual((await sr(reg.url, 'GET', '/config')).body, { compatibilityLevel: 'FULL' });
    assert.deepEqual((await sr(reg.url, 'GET', '/config/orders-value?defaultToGlobal=true')).body, {
      compatibilityLevel: 'FULL',
    });
    // Under FULL a field without a default cannot be added.
    assert.equal((await register('orders-value', record([A, noDefault]))).status, 409);
    await sr(reg.url, 'PUT', '/config/orders-value', { compatibility: 'forward' });
    assert.deepEqual((await sr(reg.url, 'GET', '/config/orders-value')).body, {
      compatibilityLevel: 'FORWARD',
    });
    assert.equal((await register('orders-value', record([A, noDefault]))).status, 200);
    assert.deepEqual((await sr(reg.url, 'DELETE', '/config/orders-value')).body, {
      compatibilityLevel: 'FORWARD',
    });
    assert.equal((await sr(reg.url, 'GET', '/config/orders-value')).body.error_code, 40408);
    assert.deepEqual((await sr(reg.url, 'DELETE', '/config')).body, { compatibilityLevel: 'FULL' });
    assert.deepEqual((await sr(reg.url, 'GET', '/config')).body, { compatibilityLevel: 'BACKWARD' });
  });

  test('mode: READONLY refuses writes, IMPORT takes ids and versions as given', async () => {
    assert.deepEqual((await sr(reg.url, 'GET', '/mode')).body, { mode: 'READWRITE' });
    assert.deepEqual((await sr(reg.url, 'PUT', '/mode', { mode: 'READONLY' })).body, { mode: 'READONLY' });
    const refused = await register('ro-value', record([A]));
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error_code, 42205);
    assert.equal((await sr(reg.url, 'GET', '/subjects/orders-value/versions/1')).status, 200, 'reads go on');
    await sr(reg.url, 'PUT', '/mode', { mode: 'READWRITE' });
    assert.equal((await register('ro-value', record([A]))).status, 200);
    // Per subject.
    await sr(reg.url, 'PUT', '/mode/ro-value', { mode: 'READONLY' });
    assert.deepEqual((await sr(reg.url, 'GET', '/mode/ro-value')).body, { mode: 'READONLY' });
    assert.equal((await register('ro-value', record([A, withDefault]))).body.error_code, 42205);
    assert.equal((await register('rw-value', record([A, withDefault]))).status, 200);
    assert.deepEqual((await sr(reg.url, 'DELETE', '/mode/ro-value')).body, { mode: 'READONLY' });
    assert.equal((await register('ro-value', record([A, withDefault]))).status, 200);
    // IMPORT: refused on a non-empty registry without force; ids and versions as given.
    assert.equal((await sr(reg.url, 'PUT', '/mode', { mode: 'IMPORT' })).body.error_code, 42205);
    assert.deepEqual((await sr(reg.url, 'PUT', '/mode/imported-value', { mode: 'IMPORT' })).body, {
      mode: 'IMPORT',
    });
    const imp = await sr(reg.url, 'POST', '/subjects/imported-value/versions', {
      schema: record([A], 'Imported'),
      id: 5000,
      version: 7,
    });
    assert.deepEqual(imp.body, { id: 5000 });
    assert.deepEqual((await sr(reg.url, 'GET', '/subjects/imported-value/versions')).body, [7]);
    assert.deepEqual((await sr(reg.url, 'DELETE', '/mode/imported-value')).body, { mode: 'IMPORT' });
    const plain = await sr(reg.url, 'POST', '/subjects/ro-value/versions', { schema: record([A]), id: 1 });
    assert.equal(plain.body.error_code, 42205, 'an id outside IMPORT mode is refused');
    // The next id allocated is above the imported one.
    const next = await register('after-import', record([A], 'AfterImport'));
    assert.equal(next.body.id, 5001);
  });

  test("the _schemas topic: compacted, one partition, Confluent's record keys", async () => {
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    try {
      const configs = await describeConfigs(cluster, ResourceType.TOPIC, '_schemas', ['cleanup.policy']);
      assert.equal(configs[0]?.value, 'compact');
      assert.equal((await cluster.topic('_schemas')).partitions.length, 1);
      const consumer = Consumer.on(cluster, { maxWaitMs: 100 });
      await consumer.assign('_schemas', [0], 'earliest');
      const keys: Record<string, unknown>[] = [];
      const values: (Record<string, unknown> | null)[] = [];
      for (let i = 0; i < 50; i++) {
        const got = await consumer.poll();
        for (const r of got) {
          keys.push(JSON.parse(r.key?.toString() ?? 'null'));
          values.push(r.value === null ? null : JSON.parse(r.value.toString()));
        }
        if (got.length === 0 && keys.length > 0) break;
      }
      const first = keys.findIndex((k) => k.keytype === 'SCHEMA' && k.subject === 'orders-value');
      assert.ok(first >= 0);
      assert.equal(
        JSON.stringify(keys[first]),
        JSON.stringify({ keytype: 'SCHEMA', subject: 'orders-value', version: 1, magic: 1 }),
      );
      const v = values[first]!;
      assert.deepEqual(Object.keys(v), ['subject', 'version', 'id', 'schema', 'deleted']);
      assert.equal(v.deleted, false);
      assert.ok(keys.some((k) => JSON.stringify(k) === '{"keytype":"CONFIG","subject":null,"magic":0}'));
      assert.ok(keys.some((k) => JSON.stringify(k) === '{"keytype":"MODE","subject":"ro-value","magic":0}'));
      assert.ok(
        keys.some(
          (k) => JSON.stringify(k) === '{"keytype":"DELETE_SUBJECT","subject":"del-value","magic":0}',
        ),
      );
      assert.ok(values.includes(null), 'hard deletes write tombstones');
    } finally {
      cluster.close();
    }
  });

  test('the broker restarts under a running registry: it reconnects, reads and writes again', async () => {
    const before = await snapshot(reg.url);
    await broker.restart();
    await reg.waitForLog(/reading _schemas again|registry leader elected/, 60_000);
    assert.deepEqual(await snapshot(reg.url), before);
    const r = await register('broker-restart-value', record([A], 'AfterBrokerRestart'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await sr(reg.url, 'GET', '/subjects/broker-restart-value/versions/1')).body.id, r.body.id);
  });

  test('a restarted registry serves the same ids and versions, and allocates above them', async () => {
    const before = await snapshot(reg.url);
    await reg.stop();
    reg = await startRegistry(broker.bootstrap);
    assert.deepEqual(await snapshot(reg.url), before);
    const r = await register('restart-value', record([A], 'AfterRestart'));
    assert.ok(r.body.id > 5000, `a new id above every earlier one: ${r.body.id}`);
  });

  test('two registries: one leader, writes through either, the same ids everywhere', async () => {
    const second = await startRegistry(broker.bootstrap);
    extra.push(second);
    // Both settle on one leader, the registry with the smaller URL (Confluent's rule); each logs the leader
    // it learns from every new assignment.
    const expected = [reg.url, second.url].sort()[0];
    const leaderOf = async (h: RegistryHandle): Promise<{ leader: string; self: boolean }> => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const lines = h
          .logs()
          .split('\n')
          .filter((l) => l.includes('registry leader elected'));
        const last = lines[lines.length - 1];
        const j = last === undefined ? null : (JSON.parse(last) as { leader: string; self: boolean });
        if (j !== null && j.leader === expected) return j;
        assert.ok(Date.now() < deadline, `no leader agreed on by ${h.url}:\n${h.logs()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const [a, b] = await Promise.all([leaderOf(reg), leaderOf(second)]);
    assert.equal(a.leader, b.leader);
    assert.equal([a.self, b.self].filter(Boolean).length, 1, 'exactly one leader');
    const follower = a.self ? second : reg;
    const leader = a.self ? reg : second;

    // A write through the follower is carried out by the leader; both read it at once.
    const viaFollower = await register('two-value', record([A], 'Two'), follower.url);
    assert.equal(viaFollower.status, 200, JSON.stringify(viaFollower.body));
    const viaLeader = await register('two-value', record([A, withDefault], 'Two'), leader.url);
    assert.equal(viaLeader.status, 200);
    assert.ok(viaLeader.body.id > viaFollower.body.id);
    for (const h of [reg, second]) {
      const vs = await sr(h.url, 'GET', '/subjects/two-value/versions');
      assert.deepEqual(vs.body, [1, 2]);
      assert.equal((await sr(h.url, 'GET', '/subjects/two-value/versions/1')).body.id, viaFollower.body.id);
      assert.equal((await sr(h.url, 'GET', '/subjects/two-value/versions/2')).body.id, viaLeader.body.id);
    }
    // The same schema through the other registry in another subject: the same id.
    assert.deepEqual((await register('two-other', record([A], 'Two'), leader.url)).body, {
      id: viaFollower.body.id,
    });
    assert.deepEqual((await register('two-third', record([A], 'Two'), follower.url)).body, {
      id: viaFollower.body.id,
    });
    // Errors from the leader come back through the follower as they are.
    const refused = await register('two-value', record([{ name: 'a', type: 'string' }], 'Two'), follower.url);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error_code, 409);
    // Config through the follower.
    await sr(follower.url, 'PUT', '/config/two-value', { compatibility: 'NONE' });
    assert.deepEqual((await sr(leader.url, 'GET', '/config/two-value')).body, { compatibilityLevel: 'NONE' });
    assert.deepEqual(await snapshot(reg.url), await snapshot(second.url));

    // The leader stops (leaving the group): the other takes over and goes on allocating above every id. The
    // write is sent at once: the follower finds the old leader gone and waits for the next election.
    const maxId = viaLeader.body.id as number;
    await leader.stop();
    const after = await register(
      'two-value',
      record([A, withDefault, { name: 'c', type: 'int', default: 0 }], 'Two'),
      follower.url,
    );
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.ok(after.body.id > maxId);
    assert.deepEqual((await sr(follower.url, 'GET', '/subjects/two-value/versions')).body, [1, 2, 3]);
    const elected = follower
      .logs()
      .split('\n')
      .filter((l) => l.includes('registry leader elected'));
    assert.match(elected[elected.length - 1] ?? '', new RegExp(`"leader":"${follower.url}","self":true`));
    if (leader === reg) reg = follower;
  });
});

/** Everything a client can read: subjects, their versions and ids, the schema of each id. */
async function snapshot(url: string): Promise<unknown> {
  const subjects = (await sr(url, 'GET', '/subjects?deleted=true')).body as string[];
  const out: Record<string, unknown> = {};
  for (const s of subjects) {
    const versions = (await sr(url, 'GET', `/subjects/${encodeURIComponent(s)}/versions?deleted=true`))
      .body as number[];
    for (const v of versions) {
      const e = (await sr(url, 'GET', `/subjects/${encodeURIComponent(s)}/versions/${v}?deleted=true`)).body;
      out[`${s}/${v}`] = e;
      out[`id/${e.id}`] = (await sr(url, 'GET', `/schemas/ids/${e.id}`)).body;
    }
  }
  out.config = (await sr(url, 'GET', '/config')).body;
  out.mode = (await sr(url, 'GET', '/mode')).body;
  return out;
}
