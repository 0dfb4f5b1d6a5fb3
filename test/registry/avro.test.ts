// The registry's Avro rules without a broker: the stored form (same schema, same text), compatibility
// by level following Avro's schema resolution, and the view built from `_schemas` records as Confluent
// writes them (including records this registry never writes itself, e.g. from a Confluent registry).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../../src/logger.js';
import { compatibilityErrors, parseAvro } from '../../src/registry/avro.js';
import { RegistryState } from '../../src/registry/state.js';

const type = (s: unknown) => parseAvro(JSON.stringify(s)).type;
const rec = (fields: unknown[], name = 'R') => ({ type: 'record', name, fields });

describe('registry avro', () => {
  test('the stored form ignores whitespace, attribute order and how the namespace is spelled', () => {
    const a = parseAvro('{"type":"record","name":"R","namespace":"n","fields":[{"name":"x","type":"int"}]}');
    const b = parseAvro(' { "fields" : [ {"type":"int","name":"x"} ], "name":"n.R", "type":"record" } ');
    assert.equal(a.canonical, b.canonical);
    const docs = parseAvro(
      '{"type":"record","name":"R","doc":"kept","fields":[{"name":"x","type":"int","default":1}]}',
    );
    assert.match(docs.canonical, /"doc":"kept"/);
    assert.match(docs.canonical, /"default":1/);
    // Stored as sent (less whitespace): logical types, enum defaults and custom properties are kept.
    const rich = parseAvro(
      '{"type":"record","name":"R","p":1,"fields":[{"name":"d","type":{"type":"int","logicalType":"date"}},' +
        '{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}}]}',
    );
    assert.match(rich.stored, /"logicalType":"date"/);
    assert.match(rich.stored, /"default":"A"/);
    assert.match(rich.stored, /"p":1/);
    assert.equal(parseAvro('{"type":"int"}').canonical, parseAvro('"int"').canonical);
    assert.notEqual(
      parseAvro('{"type":"record","name":"R","doc":"a","fields":[]}').canonical,
      parseAvro('{"type":"record","name":"R","doc":"b","fields":[]}').canonical,
    );
    // A nested type referenced by its short name in the enclosing namespace, or by its full name.
    const shortRef = parseAvro(
      '{"type":"record","name":"R","namespace":"n","fields":[{"name":"a","type":{"type":"fixed","name":"F","size":2}},{"name":"b","type":"F"}]}',
    );
    const fullRef = parseAvro(
      '{"type":"record","name":"n.R","fields":[{"name":"a","type":{"type":"fixed","name":"n.F","size":2}},{"name":"b","type":"n.F"}]}',
    );
    assert.equal(shortRef.canonical, fullRef.canonical);
    assert.throws(() => parseAvro('{"type":"record","name":"R"}'), /Invalid schema/);
    assert.throws(() =>
      parseAvro('{"type":"record","name":"R","fields":[{"name":"x","type":"int","default":"s"}]}'),
    );
    assert.throws(() => parseAvro('nope'), /not JSON/);
    assert.equal(parseAvro('"string"').canonical, '"string"');
  });

  test('compatibility levels: direction and transitivity', () => {
    const v1 = { version: 1, type: type(rec([{ name: 'a', type: 'int' }])) };
    const v2 = {
      version: 2,
      type: type(
        rec([
          { name: 'a', type: 'int' },
          { name: 'b', type: 'string', default: '' },
        ]),
      ),
    };
    const noDefault = type(
      rec([
        { name: 'a', type: 'int' },
        { name: 'b', type: 'string' },
      ]),
    );
    assert.deepEqual(compatibilityErrors('BACKWARD', noDefault, [v1, v2]), []);
    const transitive = compatibilityErrors('BACKWARD_TRANSITIVE', noDefault, [v1, v2]);
    assert.equal(transitive.length, 1);
    assert.match(transitive[0]!, /version 1/);
    assert.deepEqual(compatibilityErrors('FORWARD', noDefault, [v1, v2]), []);
    assert.equal(compatibilityErrors('FULL_TRANSITIVE', noDefault, [v1, v2]).length, 1);
    assert.deepEqual(compatibilityErrors('NONE', type('string'), [v1]), []);
    // Promotions go one way only.
    const long = type(rec([{ name: 'a', type: 'long' }]));
    assert.deepEqual(compatibilityErrors('BACKWARD', long, [v1]), []);
    assert.equal(compatibilityErrors('FORWARD', long, [v1]).length, 1);
    // Unions: a union reader reads a branch; a non-union reader must read every writer branch.
    const s = { version: 1, type: type('string') };
    assert.deepEqual(compatibilityErrors('BACKWARD', type(['null', 'string']), [s]), []);
    assert.equal(compatibilityErrors('FORWARD', type(['null', 'string']), [s]).length, 1);
  });

  test("the view from Confluent's records: soft and hard deletes, DELETE_SUBJECT, config and mode", () => {
    const state = new RegistryState(createLogger('test'));
    const put = (k: unknown, v: unknown) =>
      state.apply(Buffer.from(JSON.stringify(k)), v === null ? null : Buffer.from(JSON.stringify(v)), 0);
    const schema = '"string"';
    put(
      { keytype: 'SCHEMA', subject: 's', version: 1, magic: 1 },
      { subject: 's', version: 1, id: 7, schema, deleted: false },
    );
    put(
      { keytype: 'SCHEMA', subject: 't', version: 1, magic: 1 },
      { subject: 't', version: 1, id: 7, schema, deleted: false },
    );
    put(
      { keytype: 'SCHEMA', subject: 's', version: 2, magic: 1 },
      { subject: 's', version: 2, id: 9, schema: '"int"', deleted: false },
    );
    assert.equal(state.maxId, 9);
    assert.deepEqual(state.subjectNames(false), ['s', 't']);
    assert.equal(state.idOf(schema), 7);
    put({ keytype: 'DELETE_SUBJECT', subject: 's', magic: 0 }, { subject: 's', version: 2 });
    assert.deepEqual(state.subjectNames(false), ['t']);
    assert.deepEqual(state.subjectNames(true), ['s', 't']);
    put({ keytype: 'SCHEMA', subject: 's', version: 2, magic: 1 }, null);
    assert.equal(state.schemaById(9), undefined, 'no version holds id 9 any more');
    assert.equal(state.maxId, 9, 'ids are never handed out twice');
    put({ keytype: 'CONFIG', subject: null, magic: 0 }, { compatibilityLevel: 'FULL' });
    put({ keytype: 'CONFIG', subject: 't', magic: 0 }, { compatibilityLevel: 'NONE' });
    assert.equal(state.effectiveCompatibility('s'), 'FULL');
    assert.equal(state.effectiveCompatibility('t'), 'NONE');
    put({ keytype: 'CONFIG', subject: 't', magic: 0 }, null);
    assert.equal(state.effectiveCompatibility('t'), 'FULL');
    put({ keytype: 'MODE', subject: null, magic: 0 }, { mode: 'READONLY' });
    assert.equal(state.effectiveMode('t'), 'READONLY');
    // A schema as Confluent's Java registry stores it is the same schema as another spelling registered here.
    const java =
      '{"type":"record","name":"Payment","namespace":"io.x","fields":[{"name":"id","type":"long"}]}';
    put(
      { keytype: 'SCHEMA', subject: 'j', version: 1, magic: 1 },
      { subject: 'j', version: 1, id: 20, schema: java, deleted: false },
    );
    const here = parseAvro('{"name":"io.x.Payment","type":"record","fields":[{"type":"long","name":"id"}]}');
    assert.equal(state.idOf(here.canonical), 20);
    assert.equal(state.schemaById(20)?.schema, java, 'served as stored');
    // Records it cannot read are skipped, not fatal.
    state.apply(Buffer.from('not json'), Buffer.from('{}'), 1);
    state.apply(
      Buffer.from('{"keytype":"SCHEMA","subject":"s","version":3,"magic":1}'),
      Buffer.from('[1]'),
      2,
    );
    put({ keytype: 'CONFIG', subject: null, magic: 0 }, { compatibilityLevel: 'WHATEVER' });
    put({ keytype: 'NOOP', magic: 0 }, null);
    assert.equal(state.effectiveCompatibility('s'), 'FULL');
    assert.deepEqual(state.subjectNames(true), ['j', 's', 't']);
  });
});
