// TLS for SSL and SASL_SSL listeners, from Kafka's ssl.* keys (per listener: listener.name.<l>.ssl.*).
//
// Stores: PEM (ssl.keystore.type=PEM: a file with the private key and the certificate chain, or the inline
// ssl.keystore.key + ssl.keystore.certificate.chain; ssl.truststore.type=PEM: a file of CA certificates or
// the inline ssl.truststore.certificates) and PKCS12 key stores (ssl.keystore.password). JKS, and PKCS12
// trust stores, cannot be read by Node's TLS and are refused at start-up with a message saying so.
//
// The principal of a client authenticated by its certificate is `User:<subject DN>` (RFC 2253 order, as Java
// prints it), mapped by ssl.principal.mapping.rules; a client without a verified certificate is ANONYMOUS.
//
// Sessions resume (TLS 1.3 tickets, as Java's clients try on their second connection): each listener's context
// has its own session id context, without which OpenSSL answers a resumption on a listener that requests client
// certificates with an internal_error alert.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import * as tls from 'node:tls';
import { ConfigError } from '../config/config-error.js';
import type { ListenerSecurityConfig } from '../config/security-config.js';
import { mapPrincipal, type PrincipalMappingRule, parsePrincipalMappingRules } from './principal-mapping.js';

export type ClientAuth = 'none' | 'requested' | 'required';

export interface ServerTls {
  context: tls.SecureContext;
  clientAuth: ClientAuth;
  rules: PrincipalMappingRule[];
}

export function pemBlocks(text: string, kind: RegExp): string[] {
  const out: string[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  for (const m of text.matchAll(re)) if (kind.test(m[1] as string)) out.push(m[0]);
  return out;
}

export const PEM_KEY = /PRIVATE KEY$/;
export const PEM_CERT = /^CERTIFICATE$/;

function readFile(cfg: ListenerSecurityConfig, key: string): Buffer {
  const path = cfg.string(key);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(cfg.keyOf(key), `cannot read ${path}: ${(err as Error).message}`);
  }
}

/** TLS versions from ssl.enabled.protocols (TLSv1.2, TLSv1.3). */
function versions(cfg: ListenerSecurityConfig): {
  minVersion: tls.SecureVersion;
  maxVersion: tls.SecureVersion;
} {
  const allowed: tls.SecureVersion[] = ['TLSv1.2', 'TLSv1.3'];
  const enabled = cfg.list('ssl.enabled.protocols').filter((p) => allowed.includes(p as tls.SecureVersion));
  if (enabled.length === 0) {
    throw new ConfigError(
      cfg.keyOf('ssl.enabled.protocols'),
      `no protocol Samsa serves (TLSv1.2, TLSv1.3); got "${cfg.string('ssl.enabled.protocols')}"`,
    );
  }
  const sorted = enabled.sort() as tls.SecureVersion[];
  return {
    minVersion: sorted[0] as tls.SecureVersion,
    maxVersion: sorted[sorted.length - 1] as tls.SecureVersion,
  };
}

/**
 * ssl.cipher.suites as OpenSSL cipher names: TLS 1.3 suites keep their names (TLS_AES_128_GCM_SHA256), TLS 1.2
 * suites given by their IANA (Java) names are translated (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ->
 * ECDHE-RSA-AES128-GCM-SHA256); OpenSSL names pass through.
 */
export function opensslCiphers(suites: readonly string[]): string {
  return suites
    .map((s) => {
      const m =
        /^TLS_(ECDHE|DHE)_(RSA|ECDSA)_WITH_(AES_128|AES_256|CHACHA20)_(GCM|POLY1305)_?(SHA\d+)?$/.exec(s);
      if (m === null) return s;
      const kx = m[1] === 'DHE' ? 'DHE' : 'ECDHE';
      if (m[3] === 'CHACHA20') return `${kx}-${m[2]}-CHACHA20-POLY1305`;
      return `${kx}-${m[2]}-${(m[3] as string).replace('_', '')}-${m[4]}-${m[5]}`;
    })
    .join(':');
}

/** The key material of a listener: PEM or PKCS12 (also the client certificate of inter-broker connections). */
export function keyMaterial(cfg: ListenerSecurityConfig): tls.SecureContextOptions {
  const type = cfg.string('ssl.keystore.type').toUpperCase();
  const inlineKey = cfg.get('ssl.keystore.key');
  const inlineChain = cfg.get('ssl.keystore.certificate.chain');
  const passphrase = cfg.get('ssl.key.password') ?? undefined;
  if (inlineKey !== null || inlineChain !== null) {
    if (inlineKey === null || inlineChain === null) {
      throw new ConfigError(
        cfg.keyOf(inlineKey === null ? 'ssl.keystore.key' : 'ssl.keystore.certificate.chain'),
        'ssl.keystore.key and ssl.keystore.certificate.chain go together (PEM)',
      );
    }
    return { key: inlineKey, cert: inlineChain, ...(passphrase === undefined ? {} : { passphrase }) };
  }
  if (cfg.get('ssl.keystore.location') === null) {
    throw new ConfigError(
      cfg.keyOf('ssl.keystore.location'),
      `listener ${cfg.listenerName} uses TLS and needs a key store (ssl.keystore.location, or ssl.keystore.key with ssl.keystore.certificate.chain)`,
    );
  }
  if (type === 'PKCS12') {
    const password = cfg.get('ssl.keystore.password') ?? undefined;
    return {
      pfx: readFile(cfg, 'ssl.keystore.location'),
      ...(password === undefined ? {} : { passphrase: password }),
    };
  }
  if (type !== 'PEM') {
    throw new ConfigError(
      cfg.keyOf('ssl.keystore.type'),
      `${type} key stores cannot be read by Samsa: use PEM (a file with the key and the certificate chain) or PKCS12`,
    );
  }
  const text = readFile(cfg, 'ssl.keystore.location').toString('utf8');
  const keys = pemBlocks(text, PEM_KEY);
  const certs = pemBlocks(text, PEM_CERT);
  if (keys.length !== 1 || certs.length === 0) {
    throw new ConfigError(
      cfg.keyOf('ssl.keystore.location'),
      `a PEM key store holds one private key and its certificate chain; ${cfg.string('ssl.keystore.location')} has ${keys.length} keys and ${certs.length} certificates`,
    );
  }
  return { key: keys[0], cert: certs.join('\n'), ...(passphrase === undefined ? {} : { passphrase }) };
}

/** Trusted CA certificates (PEM), or undefined for Node's default roots. */
export function trustedCertificates(cfg: ListenerSecurityConfig): string | undefined {
  const inline = cfg.get('ssl.truststore.certificates');
  if (inline !== null) return inline;
  if (cfg.get('ssl.truststore.location') === null) return undefined;
  const type = cfg.string('ssl.truststore.type').toUpperCase();
  if (type !== 'PEM') {
    throw new ConfigError(
      cfg.keyOf('ssl.truststore.type'),
      `${type} trust stores cannot be read by Samsa: use ssl.truststore.type=PEM (a file of CA certificates)`,
    );
  }
  const certs = pemBlocks(readFile(cfg, 'ssl.truststore.location').toString('utf8'), PEM_CERT);
  if (certs.length === 0) {
    throw new ConfigError(
      cfg.keyOf('ssl.truststore.location'),
      'no certificate found in the PEM trust store',
    );
  }
  return certs.join('\n');
}

/** The server side of a TLS listener; throws ConfigError naming the key at fault. */
export function serverTls(cfg: ListenerSecurityConfig): ServerTls {
  const clientAuth = cfg.string('ssl.client.auth') as ClientAuth;
  const ca = trustedCertificates(cfg);
  if (clientAuth !== 'none' && ca === undefined) {
    throw new ConfigError(
      cfg.keyOf('ssl.client.auth'),
      `ssl.client.auth=${clientAuth} needs a trust store to verify client certificates (ssl.truststore.location)`,
    );
  }
  const ciphers = cfg.list('ssl.cipher.suites');
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext({
      ...keyMaterial(cfg),
      ...(ca === undefined ? {} : { ca }),
      ...versions(cfg),
      ...(ciphers.length === 0 ? {} : { ciphers: opensslCiphers(ciphers) }),
      // At most 32 bytes (SSL_MAX_SID_CTX_LENGTH); one per listener, so sessions do not cross listeners.
      sessionIdContext: createHash('sha256').update(`samsa:${cfg.listenerName}`).digest('hex').slice(0, 32),
    });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      cfg.keyOf('ssl.keystore.location'),
      `cannot use the TLS key material: ${(err as Error).message}`,
    );
  }
  const rulesKey = cfg.keyOf('ssl.principal.mapping.rules');
  return {
    context,
    clientAuth,
    rules: parsePrincipalMappingRules(rulesKey, cfg.string('ssl.principal.mapping.rules')),
  };
}

/** Wraps an accepted socket in the listener's TLS. */
export function wrapServerSocket(socket: import('node:net').Socket, t: ServerTls): tls.TLSSocket {
  return new tls.TLSSocket(socket, {
    isServer: true,
    secureContext: t.context,
    requestCert: t.clientAuth !== 'none',
    rejectUnauthorized: t.clientAuth === 'required',
  });
}

/** RFC 2253 order (most specific last in the certificate, first here), as Java's X500Principal prints it. */
function distinguishedName(subject: PeerCertificate['subject']): string {
  const order = ['CN', 'OU', 'O', 'L', 'ST', 'C'];
  const parts: string[] = [];
  const record = subject as unknown as Record<string, string | string[]>;
  for (const k of [...order, ...Object.keys(record).filter((k) => !order.includes(k))]) {
    const v = record[k];
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) parts.push(`${k}=${one.replace(/([,+"\\<>;])/g, '\\$1')}`);
  }
  return parts.join(',');
}

/** The principal of a TLS client: User:<mapped DN> when its certificate was verified, else ANONYMOUS. */
export function tlsPrincipal(socket: tls.TLSSocket, t: ServerTls): string {
  if (!socket.authorized) return 'User:ANONYMOUS';
  const cert = socket.getPeerCertificate();
  if (cert === null || cert.subject === undefined) return 'User:ANONYMOUS';
  return `User:${mapPrincipal(t.rules, distinguishedName(cert.subject))}`;
}
