// SASL/PLAIN (RFC 4616), the server side as Kafka's PlainServerCallbackHandler: the message is
// [authzid] NUL authcid NUL passwd; the password is checked against the listener's JAAS option
// user_<authcid>="<password>"; an authzid, when given, must be the user itself.

import { timingSafeEqual } from 'node:crypto';
import { SaslFailure } from './scram.js';

export type PlainUsers = ReadonlyMap<string, string>;

/** The user_<name>="<password>" options of a PlainLoginModule JAAS entry. */
export function plainUsers(options: ReadonlyMap<string, string>): Map<string, string> {
  const users = new Map<string, string>();
  for (const [k, v] of options) if (k.startsWith('user_')) users.set(k.slice('user_'.length), v);
  return users;
}

function equalSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks a PLAIN message; the authenticated user, or throws SaslFailure. */
export function authenticatePlain(message: Buffer, users: PlainUsers): string {
  const parts = message.toString('utf8').split('\u0000');
  if (parts.length !== 3) {
    throw new SaslFailure(`Invalid SASL/PLAIN response: expected 3 tokens, got ${parts.length}`);
  }
  const [authzid, user, password] = parts as [string, string, string];
  if (user === '') throw new SaslFailure('Authentication failed: username not specified');
  if (password === '') throw new SaslFailure('Authentication failed: password not specified');
  const expected = users.get(user);
  if (expected === undefined || !equalSecret(expected, password)) {
    throw new SaslFailure('Authentication failed: Invalid username or password');
  }
  if (authzid !== '' && authzid !== user) {
    throw new SaslFailure(
      'Authentication failed: Client requested an authorization id that is different from username',
    );
  }
  return user;
}
