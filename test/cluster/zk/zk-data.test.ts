// Kafka's znode formats: the examples are the bytes Kafka brokers wrote (taken from `zookeeper-shell get`
// output of Kafka 2.x/3.x clusters and from the format comments in Kafka's ZkData.scala), decoded and,
// where Samsa writes the same version, re-encoded to the same bytes.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodeBrokerRegistration,
  decodeClusterId,
  decodeConfigChange,
  decodeController,
  decodeControllerEpoch,
  decodeEntityConfig,
  decodeIsrChange,
  decodeLogDirEvent,
  decodePartitionState,
  decodePreferredReplicaElection,
  decodeProducerIdBlock,
  decodeReassignPartitions,
  decodeTopicAssignment,
  encodeBrokerRegistration,
  encodeClusterId,
  encodeConfigChange,
  encodeController,
  encodeControllerEpoch,
  encodeEntityConfig,
  encodeIsrChange,
  encodeLogDirEvent,
  encodePartitionState,
  encodePreferredReplicaElection,
  encodeProducerIdBlock,
  encodeReassignPartitions,
  encodeTopicAssignment,
  type PartitionState,
  parseIdSegment,
  persistentZkPaths,
  sequenceNumber,
  topicIdFromKafka,
  topicIdToKafka,
  ZkDataError,
  zkPaths,
} from '../../../src/cluster/zk/zk-data.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('Kafka znode formats', () => {
  test('/brokers/ids/<id> version 5 as Kafka 2.8+ writes it', () => {
    const kafka =
      '{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT","PLAINTEXT_HOST":"PLAINTEXT"},' +
      '"endpoints":["PLAINTEXT://kafka-1:9092","PLAINTEXT_HOST://localhost:29092"],"jmx_port":-1,"port":9092,' +
      '"host":"kafka-1","version":5,"timestamp":"1625336133848"}';
    const r = decodeBrokerRegistration(1, b(kafka));
    assert.deepEqual(r, {
      version: 5,
      endpoints: [
        { listener: 'PLAINTEXT', host: 'kafka-1', port: 9092, securityProtocol: 'PLAINTEXT' },
        { listener: 'PLAINTEXT_HOST', host: 'localhost', port: 29092, securityProtocol: 'PLAINTEXT' },
      ],
      rack: null,
      jmxPort: -1,
      timestamp: 1625336133848,
      features: {},
    });
    assert.equal(encodeBrokerRegistration({ ...r, timestamp: 1625336133848 }).toString(), kafka);
  });

  test('/brokers/ids/<id>: custom listeners, TLS only, rack, features, IPv6', () => {
    const strimzi =
      '{"features":{},"listener_security_protocol_map":{"REPLICATION-9091":"SSL","TLS-9093":"SSL"},' +
      '"endpoints":["REPLICATION-9091://my-cluster-kafka-0.svc:9091","TLS-9093://my-cluster-kafka-0.svc:9093"],' +
      '"jmx_port":-1,"port":-1,"host":null,"rack":"zone-a","version":5,"timestamp":"1710691902130"}';
    const r = decodeBrokerRegistration(0, b(strimzi));
    assert.equal(r.rack, 'zone-a');
    assert.deepEqual(
      r.endpoints.map((e) => `${e.listener} ${e.securityProtocol} ${e.port}`),
      ['REPLICATION-9091 SSL 9091', 'TLS-9093 SSL 9093'],
    );
    // No PLAINTEXT endpoint: Kafka writes host null and port -1 at the top level.
    assert.equal(encodeBrokerRegistration({ ...r, timestamp: 1710691902130 }).toString(), strimzi);

    const withFeatures = decodeBrokerRegistration(
      2,
      b(
        '{"version":5,"host":"localhost","port":9092,"jmx_port":9999,"timestamp":"2233345666",' +
          '"endpoints":["CLIENT://host1:9092","REPLICATION://[::1]:9093"],' +
          '"listener_security_protocol_map":{"CLIENT":"PLAINTEXT","REPLICATION":"SASL_SSL"},"rack":"dc1",' +
          '"features":{"feature":{"min_version":1,"first_active_version":2,"max_version":3}}}',
      ),
    );
    assert.deepEqual(withFeatures.features, { feature: { minVersion: 1, maxVersion: 3 } });
    assert.deepEqual(withFeatures.endpoints[1], {
      listener: 'REPLICATION',
      host: '::1',
      port: 9093,
      securityProtocol: 'SASL_SSL',
    });
    const again = JSON.parse(encodeBrokerRegistration({ ...withFeatures, timestamp: 1 }).toString());
    assert.deepEqual(again.endpoints, ['CLIENT://host1:9092', 'REPLICATION://[::1]:9093']);
    assert.deepEqual(again.features, { feature: { min_version: 1, max_version: 3 } });
    assert.equal(again.host, 'host1');
  });

  test('/brokers/ids/<id>: older versions still read', () => {
    const v4 = decodeBrokerRegistration(
      1,
      b(
        '{"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://10.9.167.48:9092"],' +
          '"jmx_port":9999,"host":"10.9.167.48","timestamp":"1543300074836","port":9092,"version":4}',
      ),
    );
    assert.deepEqual(v4.endpoints, [
      { listener: 'PLAINTEXT', host: '10.9.167.48', port: 9092, securityProtocol: 'PLAINTEXT' },
    ]);
    assert.equal(v4.jmxPort, 9999);
    const v1 = decodeBrokerRegistration(
      1,
      b('{"version":1,"host":"localhost","port":9092,"jmx_port":9999,"timestamp":"2233345666"}'),
    );
    assert.deepEqual(v1.endpoints, [
      { listener: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 'PLAINTEXT' },
    ]);
    // Version 2 had no protocol map: the listener name is the protocol.
    const v2 = decodeBrokerRegistration(
      1,
      b(
        '{"version":2,"host":"h","port":9092,"jmx_port":-1,"endpoints":["PLAINTEXT://h:9092","SSL://h:9093"]}',
      ),
    );
    assert.deepEqual(
      v2.endpoints.map((e) => e.securityProtocol),
      ['PLAINTEXT', 'SSL'],
    );
    assert.equal(v2.timestamp, null);
  });

  test('/brokers/topics/<t> version 3 as Kafka 2.8+ writes it', () => {
    const kafka =
      '{"partitions":{"0":[0,2,3],"1":[2,3,0],"2":[3,0,2]},"topic_id":"aSFJVxF7SIaTCptmWn_GgA",' +
      '"adding_replicas":{},"removing_replicas":{},"version":3}';
    const a = decodeTopicAssignment('test_cluster', b(kafka));
    assert.equal(a.topicId, Buffer.from('aSFJVxF7SIaTCptmWn_GgA', 'base64url').toString('hex'));
    assert.equal(a.topicId?.length, 32);
    assert.deepEqual(a.partitions.get(1), { replicas: [2, 3, 0], addingReplicas: [], removingReplicas: [] });
    assert.equal(encodeTopicAssignment(a).toString(), kafka);
    assert.equal(topicIdToKafka(a.topicId!), 'aSFJVxF7SIaTCptmWn_GgA');

    // Partitions in hash order, no topic id (written before 2.8): same content, numeric order back.
    const hashed =
      '{"partitions":{"11":[1,3,4],"0":[0,1,2],"1":[1,2,3],"2":[2,3,4],"3":[3,4,0],"4":[4,0,1],"5":[0,2,3],' +
      '"6":[1,3,4],"7":[2,4,0],"8":[3,0,1],"9":[4,1,2],"10":[1,2,3]},"adding_replicas":{},"removing_replicas":{},"version":3}';
    const h = decodeTopicAssignment('orders', b(hashed));
    assert.equal(h.topicId, null);
    assert.equal(h.partitions.size, 12);
    assert.deepEqual(JSON.parse(encodeTopicAssignment(h).toString()), JSON.parse(hashed));
    assert.deepEqual(Object.keys(JSON.parse(encodeTopicAssignment(h).toString()).partitions).slice(0, 3), [
      '0',
      '1',
      '2',
    ]);

    // During a reassignment, and the versions before 3.
    const moving = decodeTopicAssignment(
      't',
      b(
        '{"partitions":{"0":[1,2,3,4]},"adding_replicas":{"0":[4]},"removing_replicas":{"0":[1]},"version":2}',
      ),
    );
    assert.deepEqual(moving.partitions.get(0), {
      replicas: [1, 2, 3, 4],
      addingReplicas: [4],
      removingReplicas: [1],
    });
    assert.deepEqual(
      JSON.parse(encodeTopicAssignment(moving).toString()),
      JSON.parse(
        '{"partitions":{"0":[1,2,3,4]},"adding_replicas":{"0":[4]},"removing_replicas":{"0":[1]},"version":3}',
      ),
    );
    assert.deepEqual(
      decodeTopicAssignment('t', b('{"version":1,"partitions":{"0":[0,1]}}')).partitions.get(0)?.replicas,
      [0, 1],
    );
  });

  test('/brokers/topics/<t>/partitions/<p>/state', () => {
    for (const kafka of [
      '{"controller_epoch":1,"leader":2,"version":1,"leader_epoch":0,"isr":[2,3,1]}',
      '{"controller_epoch":20,"leader":1,"version":1,"leader_epoch":2,"isr":[1,0]}',
      '{"controller_epoch":1,"leader":-1,"version":1,"leader_epoch":7,"isr":[]}',
    ]) {
      const s = decodePartitionState('t', 0, b(kafka));
      assert.equal(s.leaderRecoveryState, 0);
      assert.equal(encodePartitionState(s).toString(), kafka);
    }
    assert.deepEqual(
      decodePartitionState(
        't',
        0,
        b('{"controller_epoch":20,"leader":1,"version":1,"leader_epoch":2,"isr":[1,0]}'),
      ),
      {
        leader: 1,
        leaderEpoch: 2,
        isr: [1, 0],
        controllerEpoch: 20,
        leaderRecoveryState: 0,
      },
    );
    // After an unclean election Kafka 3.2+ adds leader_recovery_state (1 = RECOVERING) until it recovers.
    const recovering = decodePartitionState(
      't',
      3,
      b('{"controller_epoch":3,"leader":1,"version":1,"leader_epoch":4,"isr":[1],"leader_recovery_state":1}'),
    );
    assert.equal(recovering.leaderRecoveryState, 1);
    assert.equal(JSON.parse(encodePartitionState(recovering).toString()).leader_recovery_state, 1);
  });

  test('/controller, /controller_epoch, /cluster/id', () => {
    const v1 = '{"version":1,"brokerid":0,"timestamp":"1543300074836"}';
    assert.deepEqual(decodeController(b(v1)), {
      brokerId: 0,
      timestamp: 1543300074836,
      kraftControllerEpoch: null,
    });
    assert.equal(encodeController(0, 1543300074836).toString(), v1);
    // Kafka 3.4+ (ZooKeeper mode) writes version 2; a KRaft controller in a migration writes its epoch.
    const v2 = '{"version":2,"brokerid":0,"timestamp":"1710691902625","kraftControllerEpoch":-1}';
    assert.deepEqual(decodeController(b(v2)), {
      brokerId: 0,
      timestamp: 1710691902625,
      kraftControllerEpoch: null,
    });
    assert.equal(
      decodeController(b('{"version":2,"brokerid":3000,"timestamp":"1","kraftControllerEpoch":5}'))
        .kraftControllerEpoch,
      5,
    );

    assert.equal(decodeControllerEpoch(b('1')), 1);
    assert.equal(encodeControllerEpoch(17).toString(), '17');
    for (const bad of ['', '-1', 'one', '1.5', '99999999999', ' 1']) {
      assert.throws(() => decodeControllerEpoch(b(bad)), ZkDataError, bad);
    }

    const cluster = '{"version":"1","id":"1N7JbZwjS-aW9JCXTZUbGQ"}';
    assert.equal(decodeClusterId(b(cluster)), '1N7JbZwjS-aW9JCXTZUbGQ');
    assert.equal(encodeClusterId('1N7JbZwjS-aW9JCXTZUbGQ').toString(), cluster);
  });

  test('/config/topics/<t> and /config/changes/config_change_<seq>', () => {
    const config = '{"version":1,"config":{"retention.ms":"1000"}}';
    assert.deepEqual(decodeEntityConfig(zkPaths.topicConfig('t'), b(config)), { 'retention.ms': '1000' });
    assert.equal(encodeEntityConfig({ 'retention.ms': '1000' }).toString(), config);
    assert.deepEqual(decodeEntityConfig(zkPaths.topicConfig('t'), Buffer.alloc(0)), {});
    assert.deepEqual(decodeEntityConfig(zkPaths.topicConfig('t'), b('{"version":1,"config":{}}')), {});
    // A key named __proto__ stays a key, it does not become the map's prototype.
    const proto = decodeEntityConfig(
      '/config/topics/t',
      b('{"version":1,"config":{"__proto__":"x","a":"b"}}'),
    );
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
    assert.deepEqual(Object.keys(proto).sort(), ['__proto__', 'a']);

    const change = '{"version":2,"entity_path":"topics/orders"}';
    assert.deepEqual(decodeConfigChange('/config/changes/config_change_0000000001', b(change)), {
      entityType: 'topics',
      entityName: 'orders',
    });
    assert.equal(encodeConfigChange('topics', 'orders').toString(), change);
    assert.deepEqual(decodeConfigChange('/x', b('{"version":2,"entity_path":"users/alice/clients/app"}')), {
      entityType: 'users',
      entityName: 'alice/clients/app',
    });
    assert.deepEqual(decodeConfigChange('/x', b('{"version":1,"entity_type":"topics","entity_name":"t"}')), {
      entityType: 'topics',
      entityName: 't',
    });
  });

  test('/admin, /isr_change_notification, /log_dir_event_notification, /latest_producer_id_block', () => {
    const reassign = '{"version":1,"partitions":[{"topic":"foo","partition":1,"replicas":[1,2,3]}]}';
    assert.deepEqual(decodeReassignPartitions(b(reassign)), [
      { topic: 'foo', partition: 1, replicas: [1, 2, 3] },
    ]);
    assert.equal(
      encodeReassignPartitions([{ topic: 'foo', partition: 1, replicas: [1, 2, 3] }]).toString(),
      reassign,
    );

    const isr = '{"version":1,"partitions":[{"topic":"t","partition":0},{"topic":"u","partition":7}]}';
    const parts = decodeIsrChange('/isr_change_notification/isr_change_0000000000', b(isr));
    assert.deepEqual(parts, [
      { topic: 't', partition: 0 },
      { topic: 'u', partition: 7 },
    ]);
    assert.equal(encodeIsrChange(parts).toString(), isr);
    assert.deepEqual(decodePreferredReplicaElection(encodePreferredReplicaElection(parts)), parts);

    const logDir = '{"version":1,"broker":1,"event":1}';
    assert.equal(decodeLogDirEvent('/log_dir_event_notification/log_dir_event_0000000003', b(logDir)), 1);
    assert.equal(encodeLogDirEvent(1).toString(), logDir);

    const block = '{"version":1,"broker":1,"block_start":"0","block_end":"999"}';
    assert.deepEqual(decodeProducerIdBlock(b(block)), { brokerId: 1, blockStart: 0, blockEnd: 999 });
    assert.equal(encodeProducerIdBlock({ brokerId: 1, blockStart: 0, blockEnd: 999 }).toString(), block);
  });

  test('paths', () => {
    assert.equal(zkPaths.brokerId(3), '/brokers/ids/3');
    assert.equal(zkPaths.topic('orders'), '/brokers/topics/orders');
    assert.equal(zkPaths.partitionState('orders', 12), '/brokers/topics/orders/partitions/12/state');
    assert.equal(zkPaths.topicConfig('orders'), '/config/topics/orders');
    assert.equal(zkPaths.deleteTopic('orders'), '/admin/delete_topics/orders');
    assert.equal(zkPaths.configChangePrefix, '/config/changes/config_change_');
    assert.throws(() => zkPaths.topic('a/b'), /not a topic name/);
    assert.throws(() => zkPaths.topic('..'), /not a topic name/);
    assert.throws(() => zkPaths.partitionState('t', -1), /partition must be an int/);
    assert.throws(() => zkPaths.brokerId(1.5), /broker id/);
    assert.ok(persistentZkPaths.includes('/brokers/ids'));
    assert.ok(persistentZkPaths.includes('/config/topics'));
    assert.ok(persistentZkPaths.includes('/latest_producer_id_block'));
    assert.equal(sequenceNumber('config_change_0000000042', zkPaths.configChangePrefix), '0000000042');
    assert.equal(
      sequenceNumber('/isr_change_notification/isr_change_0000000001', zkPaths.isrChangePrefix),
      '0000000001',
    );
    assert.throws(() => sequenceNumber('config_change_x', zkPaths.configChangePrefix), ZkDataError);
    assert.equal(parseIdSegment('12', '/brokers/ids'), 12);
    for (const bad of ['-1', '01', 'a', '', '2147483648'])
      assert.throws(() => parseIdSegment(bad, '/brokers/ids'), ZkDataError);
    assert.equal(topicIdFromKafka('AAAAAAAAAAAAAAAAAAAAAA'), '0'.repeat(32));
    assert.equal(topicIdFromKafka('too-short'), undefined);
  });
});

describe('Kafka znode formats refuse bad data', () => {
  const expectBad = (fn: () => unknown, znode: string, why: RegExp): void => {
    assert.throws(fn, (e: Error) => {
      assert.ok(e instanceof ZkDataError, String(e));
      assert.equal(e.znode, znode);
      assert.match(e.message, why);
      return true;
    });
  };

  test('each with the znode and the field that is wrong', () => {
    const state = '/brokers/topics/t/partitions/0/state';
    expectBad(() => decodePartitionState('t', 0, b('')), state, /empty/);
    expectBad(() => decodePartitionState('t', 0, b('{"leader":')), state, /not JSON/);
    expectBad(() => decodePartitionState('t', 0, b('[1,2]')), state, /must be an object/);
    expectBad(
      () => decodePartitionState('t', 0, b('{"leader":"1","leader_epoch":0,"isr":[],"controller_epoch":1}')),
      state,
      /leader must be an integer/,
    );
    expectBad(
      () => decodePartitionState('t', 0, b('{"leader":1.5,"leader_epoch":0,"isr":[],"controller_epoch":1}')),
      state,
      /leader/,
    );
    expectBad(
      () => decodePartitionState('t', 0, b('{"leader":1,"leader_epoch":-1,"isr":[],"controller_epoch":1}')),
      state,
      /leader_epoch must be in/,
    );
    expectBad(
      () => decodePartitionState('t', 0, b('{"leader":1,"leader_epoch":0,"isr":[1,1],"controller_epoch":1}')),
      state,
      /isr has a broker twice/,
    );
    expectBad(
      () =>
        decodePartitionState('t', 0, b('{"leader":1,"leader_epoch":0,"isr":[1e10],"controller_epoch":1}')),
      state,
      /isr\[0\]/,
    );
    expectBad(
      () => decodePartitionState('t', 0, b('{"leader":1,"leader_epoch":0,"isr":[1]}')),
      state,
      /controller_epoch/,
    );
    expectBad(
      () =>
        decodePartitionState(
          't',
          0,
          b('{"leader":1,"leader_epoch":0,"isr":[1],"controller_epoch":1,"leader_recovery_state":2}'),
        ),
      state,
      /leader_recovery_state/,
    );

    const topic = '/brokers/topics/t';
    expectBad(() => decodeTopicAssignment('t', b('{"partitions":{"-1":[1]}}')), topic, /not a partition/);
    expectBad(() => decodeTopicAssignment('t', b('{"partitions":{"01":[1]}}')), topic, /not a partition/);
    expectBad(
      () => decodeTopicAssignment('t', b('{"partitions":{"0":[1,-2]}}')),
      topic,
      /partitions\["0"\]\[1\]/,
    );
    expectBad(() => decodeTopicAssignment('t', b('{"partitions":{"0":"1,2"}}')), topic, /must be an array/);
    expectBad(
      () => decodeTopicAssignment('t', b('{"partitions":{},"topic_id":"abc"}')),
      topic,
      /topic_id "abc" is not a Kafka Uuid/,
    );
    const tooMany = Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [String(i), [1]]));
    expectBad(
      () => decodeTopicAssignment('t', b(JSON.stringify({ partitions: tooMany }))),
      topic,
      /10001 partitions/,
    );

    const broker = '/brokers/ids/1';
    expectBad(
      () => decodeBrokerRegistration(1, b('{"version":5,"jmx_port":-1,"endpoints":["PLAINTEXT:/h:1"]}')),
      broker,
      /is not LISTENER:\/\/host:port/,
    );
    expectBad(
      () => decodeBrokerRegistration(1, b('{"version":5,"jmx_port":-1,"endpoints":["PLAINTEXT://h:99999"]}')),
      broker,
      /out of range/,
    );
    expectBad(
      () => decodeBrokerRegistration(1, b('{"version":5,"jmx_port":-1,"endpoints":["CLIENT://h:1"]}')),
      broker,
      /no security protocol for listener CLIENT/,
    );
    expectBad(
      () =>
        decodeBrokerRegistration(
          1,
          b('{"version":5,"jmx_port":-1,"endpoints":[],"listener_security_protocol_map":{"A":"TLS"}}'),
        ),
      broker,
      /unknown security protocol "TLS"/,
    );
    expectBad(
      () => decodeBrokerRegistration(1, b('{"version":0,"jmx_port":-1}')),
      broker,
      /version must be in/,
    );
    expectBad(
      () => decodeBrokerRegistration(1, b('{"version":5,"jmx_port":-1,"endpoints":{}}')),
      broker,
      /endpoints must be an array/,
    );
    expectBad(
      () =>
        decodeBrokerRegistration(
          1,
          b('{"version":5,"jmx_port":-1,"endpoints":[],"features":{"f":{"min_version":3,"max_version":1}}}'),
        ),
      broker,
      /features.f.max_version/,
    );

    expectBad(
      () => decodeProducerIdBlock(b('{"version":1,"broker":1,"block_start":0,"block_end":"999"}')),
      '/latest_producer_id_block',
      /block_start must be a string/,
    );
    expectBad(
      () => decodeProducerIdBlock(b('{"version":1,"broker":1,"block_start":"9","block_end":"1"}')),
      '/latest_producer_id_block',
      /before block_start/,
    );
    expectBad(
      () =>
        decodeProducerIdBlock(
          b('{"version":1,"broker":1,"block_start":"0","block_end":"99999999999999999999"}'),
        ),
      '/latest_producer_id_block',
      /block_end must be a decimal/,
    );
    expectBad(() => decodeClusterId(b('{"version":"1","id":""}')), '/cluster/id', /id is empty/);
    expectBad(() => decodeController(b('{"version":1,"brokerid":-5}')), '/controller', /brokerid/);
    expectBad(
      () => decodeConfigChange('/c', b('{"version":2,"entity_path":"topics"}')),
      '/c',
      /not <type>\/<name>/,
    );
    expectBad(() => decodeConfigChange('/c', b('{"version":3,"entity_path":"topics/t"}')), '/c', /version/);
    expectBad(
      () => decodeEntityConfig('/config/topics/t', b('{"version":1,"config":{"a":1}}')),
      '/config/topics/t',
      /config.a must be a string/,
    );
    expectBad(
      () => decodeIsrChange('/i', b('{"version":1,"partitions":[{"topic":"a/b","partition":0}]}')),
      '/i',
      /topic/,
    );
    expectBad(() => decodeLogDirEvent('/l', b('{"version":1,"broker":1,"event":2}')), '/l', /event/);
  });

  test('any bytes: a decoder returns or throws ZkDataError, nothing else', () => {
    const decoders: Array<(bytes: Buffer) => unknown> = [
      (x) => decodeBrokerRegistration(1, x),
      (x) => decodeTopicAssignment('t', x),
      (x) => decodePartitionState('t', 0, x),
      (x) => decodeController(x),
      (x) => decodeControllerEpoch(x),
      (x) => decodeClusterId(x),
      (x) => decodeEntityConfig('/config/topics/t', x),
      (x) => decodeConfigChange('/c', x),
      (x) => decodeIsrChange('/i', x),
      (x) => decodeReassignPartitions(x),
      (x) => decodeLogDirEvent('/l', x),
      (x) => decodeProducerIdBlock(x),
    ];
    const inputs = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      fc.json().map((s) => b(s)),
      fc
        .dictionary(
          fc.constantFrom(
            'version',
            'leader',
            'isr',
            'partitions',
            'endpoints',
            'jmx_port',
            'block_start',
            'broker',
            'config',
            'features',
            'topic_id',
            'entity_path',
          ),
          fc.jsonValue(),
        )
        .map((o) => b(JSON.stringify(o))),
    );
    fc.assert(
      fc.property(inputs, (bytes) => {
        for (const decode of decoders) {
          try {
            decode(bytes);
          } catch (e) {
            if (!(e instanceof ZkDataError)) throw e;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('partition states round-trip', () => {
    const state = fc.record({
      leader: fc.integer({ min: -1, max: 0x7fffffff }),
      leaderEpoch: fc.integer({ min: 0, max: 0x7fffffff }),
      isr: fc.uniqueArray(fc.integer({ min: 0, max: 0x7fffffff }), { maxLength: 10 }),
      controllerEpoch: fc.integer({ min: 0, max: 0x7fffffff }),
      leaderRecoveryState: fc.constantFrom(0 as const, 1 as const),
    });
    fc.assert(
      fc.property(state, (s: PartitionState) => {
        assert.deepEqual(decodePartitionState('t', 0, encodePartitionState(s)), { ...s }); // fc records have no prototype
      }),
    );
  });
});
