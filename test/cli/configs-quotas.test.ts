// `samsa configs` for client quotas, as kafka-configs.sh: users, clients, a user and client id together
// (repeated --entity-type/--entity-name), defaults, --delete-config, a user's SCRAM credentials and quotas in
// one --add-config; checked with `samsa configs --describe` and on the broker's quota cache.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { oneLineFailure, samsa } from './cli-helpers.js';

describe('samsa configs: client quotas', () => {
  let b: InProcessBroker;
  let bs: string[];

  before(async () => {
    b = await startInProcess();
    bs = ['--bootstrap-server', `127.0.0.1:${b.port}`];
  });

  after(async () => {
    await b?.stop(true);
  });

  async function ok(args: string[]): Promise<string> {
    const r = await samsa([...args, ...bs]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  it('alters users, clients, both and the defaults, as kafka-configs.sh', async () => {
    assert.equal(
      await ok([
        'configs',
        '--alter',
        '--entity-type',
        'users',
        '--entity-name',
        'alice',
        '--add-config',
        'producer_byte_rate=1048576,consumer_byte_rate=2097152',
      ]),
      "Completed updating config for user-principal 'alice'.\n",
    );
    await ok([
      'configs',
      '--alter',
      '--entity-type',
      'users',
      '--entity-default',
      '--add-config',
      'request_percentage=200',
    ]);
    await ok([
      'configs',
      '--alter',
      '--entity-type',
      'users',
      '--entity-name',
      'alice',
      '--entity-type',
      'clients',
      '--entity-name',
      'app',
      '--add-config',
      'producer_byte_rate=4096',
    ]);
    await ok(['configs', '--alter', '--client-defaults', '--add-config', 'consumer_byte_rate=8192']);

    assert.deepEqual(b.broker.clientQuotas.quotaFor('producer_byte_rate', 'alice', 'app'), {
      bound: 4096,
      user: 'alice',
      clientId: 'app',
    });
    assert.deepEqual(b.broker.clientQuotas.quotaFor('consumer_byte_rate', 'bob', 'x'), {
      bound: 8192,
      user: '',
      clientId: 'x',
    });

    const alice = await ok(['configs', '--describe', '--entity-type', 'users', '--entity-name', 'alice']);
    assert.match(
      alice,
      /^Quota configs for user-principal 'alice' are consumer_byte_rate=2097152\.0, producer_byte_rate=1048576\.0$/m,
    );
    const both = await ok([
      'configs',
      '--describe',
      '--entity-type',
      'users',
      '--entity-name',
      'alice',
      '--entity-type',
      'clients',
      '--entity-name',
      'app',
    ]);
    assert.equal(
      both,
      "Quota configs for user-principal 'alice', client-id 'app' are producer_byte_rate=4096.0\n",
    );
    assert.equal(
      await ok(['configs', '--describe', '--entity-type', 'clients']),
      'Quota configs for the default client-id are consumer_byte_rate=8192.0\n',
    );
    assert.equal(
      await ok(['configs', '--describe', '--entity-type', 'users', '--entity-default']),
      'Quota configs for the default user-principal are request_percentage=200.0\n',
    );
  });

  it('--delete-config removes quota keys', async () => {
    await ok([
      'configs',
      '--alter',
      '--entity-type',
      'users',
      '--entity-name',
      'alice',
      '--delete-config',
      'consumer_byte_rate',
    ]);
    const alice = await ok(['configs', '--describe', '--entity-type', 'users', '--entity-name', 'alice']);
    assert.match(alice, /^Quota configs for user-principal 'alice' are producer_byte_rate=1048576\.0$/m);
  });

  it("sets a user's SCRAM credentials and quotas in one --add-config", async () => {
    await ok([
      'configs',
      '--alter',
      '--entity-type',
      'users',
      '--entity-name',
      'bob',
      '--add-config',
      'SCRAM-SHA-256=[iterations=4096,password=bob-secret],producer_byte_rate=100',
    ]);
    const bob = await ok(['configs', '--describe', '--entity-type', 'users', '--entity-name', 'bob']);
    assert.match(bob, /^Quota configs for user-principal 'bob' are producer_byte_rate=100\.0$/m);
    assert.match(bob, /SCRAM-SHA-256=iterations=4096/);
  });

  it('ips: connection_creation_rate for one address and the default (KIP-612); never with a user', async () => {
    await ok([
      'configs',
      '--alter',
      '--entity-type',
      'ips',
      '--entity-name',
      '10.0.0.7',
      '--add-config',
      'connection_creation_rate=5',
    ]);
    await ok(['configs', '--alter', '--ip-defaults', '--add-config', 'connection_creation_rate=50']);
    assert.equal(
      await ok(['configs', '--describe', '--entity-type', 'ips', '--entity-name', '10.0.0.7']),
      "Quota configs for ip '10.0.0.7' are connection_creation_rate=5.0\n",
    );
    assert.equal(
      await ok(['configs', '--describe', '--entity-type', 'ips', '--entity-default']),
      'Quota configs for the default ip are connection_creation_rate=50.0\n',
    );
    await ok(['configs', '--alter', '--ip', '10.0.0.7', '--delete-config', 'connection_creation_rate']);
    assert.equal(await ok(['configs', '--describe', '--ip', '10.0.0.7']), '');
    const mixed = await samsa([
      'configs',
      '--alter',
      '--entity-type',
      'users',
      '--entity-name',
      'u',
      '--entity-type',
      'ips',
      '--entity-name',
      '10.0.0.7',
      '--add-config',
      'connection_creation_rate=1',
      ...bs,
    ]);
    assert.equal(mixed.code, 2, mixed.stderr);
    assert.match(mixed.stderr, /an ip entity cannot be combined with a user or client id/);
  });

  it('refuses bad input with one line', async () => {
    const cases: [string[], number, RegExp][] = [
      [
        ['configs', '--alter', '--entity-type', 'clients', '--entity-name', 'c', '--add-config', 'foo=1'],
        2,
        /foo is not a quota config/,
      ],
      [
        [
          'configs',
          '--alter',
          '--entity-type',
          'clients',
          '--entity-name',
          'c',
          '--add-config',
          'producer_byte_rate=x',
        ],
        2,
        /must be a number/,
      ],
      [
        [
          'configs',
          '--alter',
          '--entity-type',
          'users',
          '--entity-name',
          'u',
          '--add-config',
          'producer_byte_rate=1.5',
        ],
        1,
        /INVALID_REQUEST: producer_byte_rate cannot be a fractional value/,
      ],
      [
        ['configs', '--alter', '--entity-type', 'clients', '--add-config', 'producer_byte_rate=1'],
        2,
        /--entity-name or --entity-default/,
      ],
    ];
    for (const [args, code, pattern] of cases) {
      const r = await samsa([...args, ...bs]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneLineFailure(r), pattern);
    }
  });
});
