// Listeners and Kafka 4's stock server.properties (KRaft): the controller keys and the CONTROLLER listener
// are ignored with one warning each, and the broker serves the PLAINTEXT listener.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BrokerConfig, ConfigError, parseProperties } from '../../src/config/broker-config.js';
import { kafka4StockProperties } from './kafka4-server-properties.js';

function from(entries: Record<string, string>): ReturnType<typeof BrokerConfig.from> {
  return BrokerConfig.from(new Map(Object.entries(entries)));
}

function refuses(entries: Record<string, string>, key: string, message: RegExp): void {
  assert.throws(
    () => from(entries),
    (e: unknown) => e instanceof ConfigError && e.key === key && message.test(e.message),
  );
}

describe("Kafka 4's stock server.properties", () => {
  it('is accepted: the broker serves PLAINTEXT and advertises it; the controller parts are dropped', () => {
    const { config } = BrokerConfig.from(parseProperties(kafka4StockProperties));
    assert.deepEqual(config.listeners(), [{ name: 'PLAINTEXT', host: '', port: 9092 }]);
    assert.deepEqual(config.advertisedListeners(), [{ name: 'PLAINTEXT', host: 'localhost', port: 9092 }]);
    assert.equal(config.nodeId, 1);
    assert.deepEqual(config.logDirs(), ['/tmp/kraft-combined-logs']);
    assert.equal(config.int('log.segment.bytes'), 1073741824);
  });

  it('warns once for each controller key and once for the CONTROLLER listener', () => {
    const { warnings } = BrokerConfig.from(parseProperties(kafka4StockProperties));
    for (const key of ['process.roles', 'controller.quorum.bootstrap.servers', 'controller.listener.names']) {
      const about = warnings.filter((w) => w.startsWith(`${key}=`));
      assert.equal(about.length, 1, `${key}: ${warnings.join('\n')}`);
      assert.match(about[0] as string, /KRaft controller setting.*ignored/);
    }
    const listener = warnings.filter((w) => /CONTROLLER:\/\//.test(w));
    assert.equal(listener.length, 1, warnings.join('\n'));
    assert.match(
      listener[0] as string,
      /listeners: CONTROLLER:\/\/:9093; advertised.listeners: CONTROLLER:\/\/localhost:9093.*PLAINTEXT:\/\/:9092/,
    );
    // Nothing said twice.
    assert.equal(new Set(warnings).size, warnings.length);
  });

  it('drops the listeners controller.listener.names names, whatever they are called', () => {
    const { config, warnings } = from({
      'controller.listener.names': 'QUORUM',
      listeners: 'QUORUM://127.0.0.1:9093,PLAINTEXT://127.0.0.1:9092',
      'listener.security.protocol.map': 'QUORUM:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    });
    assert.deepEqual(config.listeners(), [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 }]);
    assert.ok(warnings.some((w) => w.includes('QUORUM://127.0.0.1:9093')));
  });

  it('advertises the listener when only the controller was advertised', () => {
    const { config } = from({
      listeners: 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093',
      'advertised.listeners': 'CONTROLLER://127.0.0.1:9093',
    });
    assert.deepEqual(config.advertisedListeners(), [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 }]);
  });

  it('refuses a controller-only node', () => {
    refuses(
      { 'process.roles': 'controller', listeners: 'CONTROLLER://:9093' },
      'process.roles',
      /brokers only/,
    );
  });

  it('refuses a file whose only listener is the controller', () => {
    refuses({ listeners: 'CONTROLLER://:9093' }, 'listeners', /at least one listener/);
  });
});

describe('listeners', () => {
  it('accepts a listener name mapped to PLAINTEXT', () => {
    const { config } = from({
      listeners: 'CLIENTS://127.0.0.1:9092',
      'listener.security.protocol.map': 'CLIENTS:PLAINTEXT',
    });
    assert.deepEqual(config.listeners(), [{ name: 'CLIENTS', host: '127.0.0.1', port: 9092 }]);
  });

  it('accepts several listeners of every security protocol, with per-listener security keys', () => {
    const { config } = from({
      listeners: 'PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093,CLIENTS://127.0.0.1:9094',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL,CLIENTS:SASL_SSL',
      'listener.name.clients.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'listener.name.clients.scram-sha-512.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    });
    assert.deepEqual(
      config.listeners().map((l) => l.name),
      ['PLAINTEXT', 'SSL', 'CLIENTS'],
    );
    assert.equal(config.get('listener.name.clients.sasl.enabled.mechanisms'), 'SCRAM-SHA-512');
  });

  it('refuses a per-listener key that is not a security key', () => {
    refuses(
      { 'listener.name.clients.log.retention.ms': '5' },
      'listener.name.clients.log.retention.ms',
      /unknown/,
    );
  });

  it('refuses what it cannot serve, naming the key', () => {
    refuses(
      { listeners: 'CLIENTS://:9093' },
      'listener.security.protocol.map',
      /no security protocol for listener CLIENTS/,
    );
    refuses(
      { 'listener.security.protocol.map': 'PLAINTEXT:TLS' },
      'listener.security.protocol.map',
      /protocol must be one of/,
    );
    refuses(
      { listeners: 'PLAINTEXT://127.0.0.1:9092,PLAINTEXT://127.0.0.1:9094' },
      'listeners',
      /PLAINTEXT appears more than once/,
    );
    refuses(
      {
        listeners: 'PLAINTEXT://127.0.0.1:9092,OTHER://127.0.0.1:9092',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT',
      },
      'listeners',
      /PLAINTEXT and OTHER both use port 9092/,
    );
    refuses(
      { 'advertised.listeners': 'EXTERNAL://example.com:9092' },
      'advertised.listeners',
      /EXTERNAL is not a listener name/,
    );
    refuses({ listeners: 'PLAINTEXT://127.0.0.1' }, 'listeners', /expected NAME:\/\/host:port/);
  });
});
