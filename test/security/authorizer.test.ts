/** The authorizer's decisions (Kafka's AclAuthorizer semantics) and Kafka's stored ACL JSON. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeAcls,
  encodeAcls,
  filterMatches,
  Operation as O,
  PatternType,
  Permission,
  ResourceType as R,
} from '../../src/security/acl.js';
import { Authorizer, hostOf } from '../../src/security/authorizer.js';

const allow = (principal: string, operation: number, host = '*') => ({
  principal,
  host,
  operation,
  permissionType: Permission.ALLOW,
});
const deny = (principal: string, operation: number, host = '*') => ({
  ...allow(principal, operation, host),
  permissionType: Permission.DENY,
});
const literal = (resourceType: number, name: string) => ({
  resourceType,
  patternType: PatternType.LITERAL,
  name,
});
const prefixed = (resourceType: number, name: string) => ({
  resourceType,
  patternType: PatternType.PREFIXED,
  name,
});

describe('Authorizer', () => {
  it('super users, no ACL found, implied operations', () => {
    const a = new Authorizer('User:admin; User:broker', false);
    assert.equal(a.authorize('User:admin', '1.2.3.4', O.DELETE, R.TOPIC, 't'), true);
    assert.equal(a.authorize('User:alice', '1.2.3.4', O.READ, R.TOPIC, 't'), false);
    assert.equal(new Authorizer('', true).authorize('User:alice', 'h', O.READ, R.TOPIC, 't'), true);
    a.setResourceAcls(literal(R.TOPIC, 't'), [
      allow('User:alice', O.WRITE),
      allow('User:bob', O.ALTER_CONFIGS),
    ]);
    assert.equal(a.authorize('User:alice', 'h', O.WRITE, R.TOPIC, 't'), true);
    assert.equal(a.authorize('User:alice', 'h', O.DESCRIBE, R.TOPIC, 't'), true);
    assert.equal(a.authorize('User:alice', 'h', O.READ, R.TOPIC, 't'), false);
    assert.equal(a.authorize('User:bob', 'h', O.DESCRIBE_CONFIGS, R.TOPIC, 't'), true);
    assert.equal(a.authorize('User:bob', 'h', O.DESCRIBE, R.TOPIC, 't'), false);
    // An ACL on t does not open the type's other resources, even with allow.everyone.if.no.acl.found.
    assert.equal(a.authorize('User:alice', 'h', O.WRITE, R.GROUP, 't'), false);
  });

  it('wildcards, prefixes, hosts; deny wins', () => {
    const a = new Authorizer('', false);
    a.setResourceAcls(literal(R.TOPIC, '*'), [allow('User:*', O.DESCRIBE)]);
    a.setResourceAcls(prefixed(R.TOPIC, 'orders'), [allow('User:bob', O.ALL, '10.0.0.1')]);
    a.setResourceAcls(literal(R.TOPIC, 'orders-secret'), [deny('User:bob', O.READ)]);
    assert.equal(a.authorize('User:anyone', 'h', O.DESCRIBE, R.TOPIC, 'x'), true);
    assert.equal(a.authorize('User:bob', '10.0.0.1', O.READ, R.TOPIC, 'orders-eu'), true);
    assert.equal(a.authorize('User:bob', '10.0.0.2', O.READ, R.TOPIC, 'orders-eu'), false);
    assert.equal(a.authorize('User:bob', '10.0.0.1', O.READ, R.TOPIC, 'order'), false);
    assert.equal(a.authorize('User:bob', '10.0.0.1', O.READ, R.TOPIC, 'orders-secret'), false);
    assert.equal(a.authorize('User:bob', '10.0.0.1', O.WRITE, R.TOPIC, 'orders-secret'), true);
    a.setResourceAcls(literal(R.TOPIC, '*'), [deny('User:*', O.ALL, '10.0.0.1')]);
    assert.equal(a.authorize('User:bob', '10.0.0.1', O.WRITE, R.TOPIC, 'orders-eu'), false);
    a.setResourceAcls(literal(R.TOPIC, '*'), []);
    assert.equal(a.bindings().length, 2);
  });

  it('authorizeAny (IDEMPOTENT_WRITE fallback) and filters', () => {
    const a = new Authorizer('', false);
    a.setResourceAcls(literal(R.TOPIC, 't'), [allow('User:alice', O.WRITE)]);
    assert.equal(a.authorizeAny('User:alice', 'h', O.WRITE, R.TOPIC), true);
    assert.equal(a.authorizeAny('User:bob', 'h', O.WRITE, R.TOPIC), false);
    const b = { pattern: prefixed(R.TOPIC, 'ord'), entry: allow('User:bob', O.READ) };
    const any = {
      resourceType: R.ANY,
      name: null,
      patternType: PatternType.ANY,
      principal: null,
      host: null,
      operation: O.ANY,
      permissionType: Permission.ANY,
    };
    assert.equal(filterMatches(any, b), true);
    assert.equal(filterMatches({ ...any, patternType: PatternType.MATCH, name: 'orders' }, b), true);
    assert.equal(filterMatches({ ...any, patternType: PatternType.MATCH, name: 'x' }, b), false);
    assert.equal(filterMatches({ ...any, patternType: PatternType.LITERAL }, b), false);
    assert.equal(filterMatches({ ...any, principal: 'User:alice' }, b), false);
  });

  it("Kafka's znode JSON and client hosts", () => {
    const data = encodeAcls([
      allow('User:alice', O.IDEMPOTENT_WRITE),
      deny('User:*', O.DESCRIBE_CONFIGS, '1.2.3.4'),
    ]);
    assert.deepEqual(JSON.parse(data.toString()), {
      version: 1,
      acls: [
        { principal: 'User:alice', permissionType: 'Allow', operation: 'IdempotentWrite', host: '*' },
        { principal: 'User:*', permissionType: 'Deny', operation: 'DescribeConfigs', host: '1.2.3.4' },
      ],
    });
    assert.deepEqual(decodeAcls(data), [
      allow('User:alice', O.IDEMPOTENT_WRITE),
      deny('User:*', O.DESCRIBE_CONFIGS, '1.2.3.4'),
    ]);
    assert.equal(hostOf('127.0.0.1:5555'), '127.0.0.1');
    assert.equal(hostOf('[::1]:5555'), '::1');
    assert.equal(hostOf('::ffff:10.0.0.1:5555'), '10.0.0.1');
  });
});
