// Listeners (`listeners`, `advertised.listeners`, `listener.security.protocol.map`) and the KRaft keys
// of Kafka 4's stock server.properties.
//
// Kafka 4's config/server.properties describes a combined broker + KRaft controller node:
//   process.roles=broker,controller
//   controller.quorum.bootstrap.servers=localhost:9093
//   listeners=PLAINTEXT://:9092,CONTROLLER://:9093
//   advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
//   controller.listener.names=CONTROLLER
//   listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,...
// Samsa has no controller quorum, so that file is accepted this way: the controller keys are ignored
// with one warning each, the listeners named by controller.listener.names are dropped from `listeners`
// and `advertised.listeners` with one warning, and the broker serves clients on what remains.

import { ConfigError } from './config-error.js';

export interface Listener {
  name: string;
  host: string;
  port: number;
}

/** Kafka's security protocols (src/security/listener-security.ts). */
const securityProtocols = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

/** Settings of a KRaft controller quorum: none applies to Samsa, which has no controller. */
export const kraftControllerKeys: ReadonlySet<string> = new Set([
  'process.roles',
  'controller.listener.names',
  'controller.quorum.voters',
  'controller.quorum.bootstrap.servers',
  'controller.quorum.election.timeout.ms',
  'controller.quorum.election.backoff.max.ms',
  'controller.quorum.fetch.timeout.ms',
  'controller.quorum.request.timeout.ms',
  'controller.quorum.retry.backoff.ms',
  'controller.quorum.append.linger.ms',
  'metadata.log.dir',
  'metadata.log.segment.bytes',
  'metadata.log.segment.ms',
  'metadata.max.retention.bytes',
  'metadata.max.retention.ms',
  'metadata.log.max.record.bytes.between.snapshots',
  'initial.broker.registration.timeout.ms',
  'broker.heartbeat.interval.ms',
  'broker.session.timeout.ms',
]);

export function parseListener(key: string, spec: string): Listener {
  const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(spec.trim());
  if (m === null) throw new ConfigError(key, `expected NAME://host:port, got "${spec}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(key, `port must be 0..65535; got ${port}`);
  let host = m[2] as string;
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { name: (m[1] as string).toUpperCase(), host, port };
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** listener.security.protocol.map: NAME:PROTOCOL pairs, by upper-case listener name. */
export function parseProtocolMap(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of splitList(value)) {
    const m = /^([A-Za-z0-9_]+):([A-Za-z_]+)$/.exec(entry);
    if (m === null) {
      throw new ConfigError('listener.security.protocol.map', `expected NAME:PROTOCOL pairs; got "${entry}"`);
    }
    const protocol = (m[2] as string).toUpperCase();
    if (!securityProtocols.includes(protocol)) {
      throw new ConfigError(
        'listener.security.protocol.map',
        `${m[1]}: protocol must be one of ${securityProtocols.join(', ')}; got "${m[2]}"`,
      );
    }
    out.set((m[1] as string).toUpperCase(), protocol);
  }
  return out;
}

/** The security protocol of a listener name: the map's entry, else the name itself (Kafka's default map). */
export function protocolOf(name: string, map: ReadonlyMap<string, string>): string {
  return map.get(name) ?? name;
}

/**
 * Reads the KRaft keys out of the merged raw settings (file, then overrides) and drops the controller
 * listeners. Returns one warning per ignored key and one for the dropped listeners.
 * Refuses a node that would be a controller only.
 */
export function dropKraftSettings(merged: Map<string, string>, kraft: Map<string, string>): string[] {
  const warnings: string[] = [];
  for (const [key, value] of kraft) {
    if (key === 'process.roles') {
      const roles = splitList(value).map((r) => r.toLowerCase());
      if (!roles.includes('broker')) {
        throw new ConfigError(
          key,
          `Samsa runs brokers only and has no KRaft controller; got "${value}" (use process.roles=broker or remove the key)`,
        );
      }
    }
    warnings.push(`${key}=${value} is a KRaft controller setting; Samsa has no controller quorum, ignored`);
  }
  const controllerNames = new Set(splitList(kraft.get('controller.listener.names') ?? 'CONTROLLER'));
  const dropped: string[] = [];
  for (const key of ['listeners', 'advertised.listeners']) {
    const value = merged.get(key);
    if (value === undefined) continue;
    const kept: string[] = [];
    for (const spec of splitList(value)) {
      const name = /^([A-Za-z0-9_]+):\/\//.exec(spec)?.[1]?.toUpperCase();
      if (name !== undefined && controllerNames.has(name)) dropped.push(`${key}: ${spec}`);
      else kept.push(spec);
    }
    if (kept.length === splitList(value).length) continue;
    // No advertised listener left: advertise what is listened on, as when the key is unset.
    if (kept.length === 0 && key === 'advertised.listeners') merged.delete(key);
    else merged.set(key, kept.join(','));
  }
  if (dropped.length > 0) {
    warnings.push(
      `controller listener ignored (${dropped.join('; ')}); Samsa serves clients on ${merged.get('listeners') || '(none)'}`,
    );
  }
  return warnings;
}

/**
 * The listeners the broker serves, checked: names unique, each with a security protocol (the map's, or the
 * name itself when that is a protocol: Kafka's default map), distinct ports (0 excepted); advertised listeners
 * only for names that are listened on.
 */
export function checkListeners(
  listeners: Listener[],
  advertised: Listener[],
  map: Map<string, string>,
): void {
  if (listeners.length === 0) throw new ConfigError('listeners', 'at least one listener is required');
  const names = new Set<string>();
  const ports = new Map<number, string>();
  for (const l of listeners) {
    if (names.has(l.name))
      throw new ConfigError('listeners', `listener name ${l.name} appears more than once`);
    names.add(l.name);
    const protocol = protocolOf(l.name, map);
    if (!securityProtocols.includes(protocol)) {
      throw new ConfigError(
        'listener.security.protocol.map',
        `no security protocol for listener ${l.name}; add ${l.name}:PLAINTEXT (or SSL, SASL_PLAINTEXT, SASL_SSL)`,
      );
    }
    const other = ports.get(l.port);
    if (l.port !== 0 && other !== undefined) {
      throw new ConfigError('listeners', `listeners ${other} and ${l.name} both use port ${l.port}`);
    }
    ports.set(l.port, l.name);
  }
  for (const a of advertised) {
    if (!names.has(a.name)) {
      throw new ConfigError(
        'advertised.listeners',
        `${a.name} is not a listener name in listeners (${[...names].join(', ')})`,
      );
    }
  }
}
