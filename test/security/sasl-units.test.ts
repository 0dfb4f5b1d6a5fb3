/**
 * The SASL and TLS building blocks against their specifications: RFC 7677's SCRAM-SHA-256 exchange, Kafka's
 * stored credential format, PLAIN's message, JAAS config parsing and ssl.principal.mapping.rules.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { mapPrincipal, parsePrincipalMappingRules } from '../../src/security/principal-mapping.js';
import { parseJaasConfig } from '../../src/security/sasl/jaas.js';
import { authenticatePlain } from '../../src/security/sasl/plain.js';
import {
  credentialFromPassword,
  formatCredential,
  parseCredential,
  SaslFailure,
  ScramServer,
} from '../../src/security/sasl/scram.js';
import { opensslCiphers } from '../../src/security/tls.js';

describe('SCRAM', () => {
  it("RFC 7677's example: the server accepts the client proof and answers the server signature", () => {
    // RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const cred = credentialFromPassword('SCRAM-SHA-256', 'pencil', 4096, salt);
    const server = new ScramServer('SCRAM-SHA-256', (u) => (u === 'user' ? cred : undefined));
    const first = server.evaluate(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO')).toString();
    assert.match(first, /^r=rOprNGfwEbeRWgbNEkqO[^,]+,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096$/);
    // The RFC's transcript uses its own server nonce: replay it through a server that chose that nonce.
    const rfcNonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const s2 = new ScramServer('SCRAM-SHA-256', () => cred);
    s2.evaluate(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    (s2 as unknown as { nonce: string }).nonce = rfcNonce;
    (s2 as unknown as { serverFirst: string }).serverFirst =
      `r=${rfcNonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`;
    const final = s2.evaluate(
      Buffer.from(`c=biws,r=${rfcNonce},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`),
    );
    assert.equal(final.toString(), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    assert.ok(s2.complete);
    assert.equal(s2.user, 'user');
  });

  it('refuses a wrong proof, an unknown user, and channel binding', () => {
    const cred = credentialFromPassword('SCRAM-SHA-512', 'right');
    const server = new ScramServer('SCRAM-SHA-512', () => cred);
    const first = server.evaluate(Buffer.from('n,,n=u,r=abc')).toString();
    const nonce = /r=([^,]+)/.exec(first)?.[1];
    assert.throws(
      () => server.evaluate(Buffer.from(`c=biws,r=${nonce},p=${Buffer.alloc(64).toString('base64')}`)),
      SaslFailure,
    );
    const none = new ScramServer('SCRAM-SHA-512', () => undefined);
    assert.throws(() => none.evaluate(Buffer.from('n,,n=u,r=abc')), /Invalid user credentials/);
    assert.throws(() => none.evaluate(Buffer.from('p=tls-unique,,n=u,r=abc')), /channel binding/);
  });

  it("stores credentials in Kafka's text form", () => {
    const c = credentialFromPassword('SCRAM-SHA-256', 'pw', 8192);
    const text = formatCredential(c);
    assert.match(
      text,
      /^salt=[A-Za-z0-9+/=]+,stored_key=[A-Za-z0-9+/=]+,server_key=[A-Za-z0-9+/=]+,iterations=8192$/,
    );
    assert.deepEqual(parseCredential(text), c);
    assert.equal(parseCredential('salt=abc'), undefined);
  });
});

describe('PLAIN', () => {
  const users = new Map([['alice', 'secret']]);
  it('authenticates [authzid] NUL user NUL password', () => {
    assert.equal(authenticatePlain(Buffer.from('\u0000alice\u0000secret'), users), 'alice');
    assert.equal(authenticatePlain(Buffer.from('alice\u0000alice\u0000secret'), users), 'alice');
  });
  it('refuses a wrong password, another authzid and a malformed message', () => {
    assert.throws(
      () => authenticatePlain(Buffer.from('\u0000alice\u0000nope'), users),
      /Invalid username or password/,
    );
    assert.throws(
      () => authenticatePlain(Buffer.from('bob\u0000alice\u0000secret'), users),
      /authorization id/,
    );
    assert.throws(() => authenticatePlain(Buffer.from('alice'), users), /expected 3 tokens/);
  });
});

describe('JAAS config', () => {
  it("reads Kafka's PlainLoginModule entry", () => {
    const e = parseJaasConfig(
      'k',
      'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="a\\"b" user_admin=x;',
    );
    assert.equal(e.loginModule, 'org.apache.kafka.common.security.plain.PlainLoginModule');
    assert.equal(e.flag, 'required');
    assert.deepEqual(
      [...e.options],
      [
        ['username', 'admin'],
        ['password', 'a"b'],
        ['user_admin', 'x'],
      ],
    );
  });
  it('refuses an entry without a flag or the closing semicolon', () => {
    assert.throws(() => parseJaasConfig('k', 'Module username="a";'), ConfigError);
    assert.throws(() => parseJaasConfig('k', 'Module required username="a"'), /ends with/);
  });
});

describe('ssl.principal.mapping.rules', () => {
  it("maps a DN as Kafka's SslPrincipalMapper does", () => {
    const rules = parsePrincipalMappingRules(
      'k',
      'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=.*$/$1@$2/L,DEFAULT',
    );
    assert.equal(mapPrincipal(rules, 'CN=kafka1,OU=ServiceUsers,O=Org'), 'kafka1');
    assert.equal(mapPrincipal(rules, 'CN=Alice,OU=Sales,O=Org'), 'alice@sales');
    assert.equal(mapPrincipal(rules, 'CN=other'), 'CN=other');
    assert.deepEqual(parsePrincipalMappingRules('k', 'DEFAULT'), [{ kind: 'default' }]);
    assert.throws(() => parsePrincipalMappingRules('k', 'RULE:broken'), ConfigError);
  });
});

describe('ssl.cipher.suites', () => {
  it('translates IANA TLS 1.2 names to OpenSSL names and keeps TLS 1.3 names', () => {
    assert.equal(
      opensslCiphers([
        'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
        'TLS_AES_256_GCM_SHA384',
        'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
      ]),
      'ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-CHACHA20-POLY1305',
    );
  });
});
