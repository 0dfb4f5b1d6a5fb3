// Confluent Schema Registry's REST API over Node's http module (the routes are listed in docs/registry.md).
//
// Requests and answers are JSON (application/vnd.schemaregistry.v1+json, application/json and anything
// else JSON is accepted); errors are {"error_code": N, "message": "..."} with Confluent's codes (errors.ts).
// Writes (register, deletes, PUT/DELETE config and mode) are carried out by the leader: a follower sends the
// request on to the leader as it came (method, path, query, body) and relays the answer, as Confluent does.

import http from 'node:http';
import { registryForwardTimeoutMs, registryRequestBytesMax } from '../limits.js';
import type { Logger } from '../logger.js';
import type { LeaderElector } from './election.js';
import { identityUrl } from './election.js';
import { RegistryErrorCode as E, RegistryError } from './errors.js';
import type { RegistryService, SchemaRequest } from './service.js';
import { StoreTimeoutError } from './store.js';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
/** Set on a forwarded request so the receiver does not forward it again (a leader change in between). */
const FORWARDED_HEADER = 'x-samsa-registry-forwarded';

interface Request {
  method: string;
  parts: string[];
  query: URLSearchParams;
  body: unknown;
  raw: Buffer;
  headers: http.IncomingHttpHeaders;
  path: string;
}

type Answer = { status?: number; body: unknown };

const flag = (q: URLSearchParams, name: string): boolean => q.get(name) === 'true';

function bodyObject(r: Request): Record<string, unknown> {
  if (typeof r.body !== 'object' || r.body === null || Array.isArray(r.body)) {
    throw new RegistryError(400, 'The request body must be a JSON object', 400);
  }
  return r.body as Record<string, unknown>;
}

function idParam(s: string): number {
  if (!/^\d+$/.test(s)) throw new RegistryError(404, 'HTTP 404 Not Found', 404);
  return Number(s);
}

/** The schema text as a JSON value, for the /schema endpoints that return the schema itself. */
function rawSchema(schema: string): unknown {
  try {
    return JSON.parse(schema);
  } catch {
    return schema;
  }
}

export class RegistryHttp {
  private readonly server: http.Server;

  constructor(
    private readonly service: RegistryService,
    private readonly elector: LeaderElector,
    private readonly log: Logger,
  ) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        this.log.error('registry request failed', { error: e });
        if (!res.headersSent) send(res, 500, { error_code: E.STORE_ERROR, message: 'Internal error' });
      });
    });
    this.server.keepAliveTimeout = 30_000;
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const a = this.server.address();
        resolve(typeof a === 'object' && a !== null ? a.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > registryRequestBytesMax) {
        send(res, 413, {
          error_code: 413,
          message: `Request body larger than ${registryRequestBytesMax} bytes`,
        });
        req.destroy();
        return;
      }
      chunks.push(c as Buffer);
    }
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://registry');
    let body: unknown = null;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (e) {
        send(res, 400, { error_code: 400, message: `Unexpected request body: ${(e as Error).message}` });
        return;
      }
    }
    let parts: string[];
    try {
      parts = url.pathname
        .split('/')
        .filter((p) => p !== '')
        .map((p) => decodeURIComponent(p));
    } catch {
      send(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
      return;
    }
    const r: Request = {
      method: req.method ?? 'GET',
      parts,
      query: url.searchParams,
      body,
      raw,
      headers: req.headers,
      path: `${url.pathname}${url.search}`,
    };
    try {
      const answer = await this.route(r);
      send(res, answer.status ?? 200, answer.body);
    } catch (e) {
      if (e instanceof RegistryError) {
        send(res, e.status, { error_code: e.errorCode, message: e.message });
      } else if (e instanceof StoreTimeoutError) {
        send(res, 500, { error_code: E.OPERATION_TIMEOUT, message: e.message });
      } else {
        this.log.warn('registry request failed', { method: r.method, path: r.path, error: e });
        send(res, 500, {
          error_code: E.STORE_ERROR,
          message: `Error in the backend data store: ${(e as Error).message}`,
        });
      }
    }
  }

  /**
   * A write: run here when leader, else sent on to the leader. A leader that cannot be reached (it stopped
   * or crashed) is waited out: the write goes to the next leader the group elects, within
   * registryForwardTimeoutMs; no leader by then is 50004, as in Confluent.
   */
  private async write(r: Request, fn: () => Promise<unknown>): Promise<Answer> {
    const deadline = Date.now() + registryForwardTimeoutMs;
    let unreachable: string | undefined;
    for (;;) {
      if (this.elector.isLeader()) return { body: await this.service.write(fn) };
      const leader = await this.elector.waitForLeader(Math.max(0, deadline - Date.now()), unreachable);
      if (leader === null) {
        if (unreachable !== undefined) {
          throw new RegistryError(
            E.REQUEST_FORWARDING_FAILED,
            `Error while forwarding the request to the leader ${unreachable}`,
          );
        }
        throw new RegistryError(E.UNKNOWN_LEADER, 'Leader not known.');
      }
      const url = identityUrl(leader);
      if (url === identityUrl(this.elector.identity)) return { body: await this.service.write(fn) };
      if (r.headers[FORWARDED_HEADER] !== undefined) {
        throw new RegistryError(
          E.REQUEST_FORWARDING_FAILED,
          'Request was forwarded to a registry that is not the leader',
        );
      }
      const answer = await forward(url, r);
      if (answer !== null) return answer;
      this.log.warn('the leader cannot be reached; waiting for the next one', { leader: url });
      unreachable = url;
    }
  }

  private async route(r: Request): Promise<Answer> {
    const [head, a, b, c, d] = r.parts;
    const m = r.method;
    const s = this.service;
    const read = <T>(fn: () => T) => s.read(fn).then((body) => ({ body }));
    const n = r.parts.length;
    if (n === 0 && m === 'GET') return { body: {} };
    if (head === 'subjects') {
      if (n === 1 && m === 'GET') {
        return read(() => s.subjects(flag(r.query, 'deleted'), r.query.get('subjectPrefix') ?? ''));
      }
      const subject = a as string;
      if (n === 2 && m === 'POST')
        return read(() => versionAnswer(s.lookup(subject, bodyObject(r), flag(r.query, 'deleted'))));
      if (n === 2 && m === 'DELETE')
        return this.write(r, () => s.deleteSubject(subject, flag(r.query, 'permanent')));
      if (b === 'versions') {
        if (n === 3 && m === 'GET') return read(() => s.versionNumbers(subject, flag(r.query, 'deleted')));
        if (n === 3 && m === 'POST') {
          const req = bodyObject(r) as SchemaRequest;
          return this.write(r, async () => ({ id: await s.register(subject, req) }));
        }
        const version = c as string;
        if (n === 4 && m === 'GET')
          return read(() => versionAnswer(s.getVersion(subject, version, flag(r.query, 'deleted'))));
        if (n === 4 && m === 'DELETE') {
          return this.write(r, () => s.deleteVersion(subject, version, flag(r.query, 'permanent')));
        }
        if (n === 5 && d === 'schema' && m === 'GET') {
          return read(() => rawSchema(s.getVersion(subject, version, flag(r.query, 'deleted')).schema));
        }
        if (n === 5 && d === 'referencedby' && m === 'GET') {
          return read(() => {
            s.getVersion(subject, version, false);
            return [];
          });
        }
      }
    }
    if (head === 'schemas') {
      if (n === 2 && a === 'types' && m === 'GET') return { body: ['AVRO'] };
      if (a === 'ids' && b !== undefined && m === 'GET') {
        const id = idParam(b);
        if (n === 3) return read(() => schemaAnswer(s.schemaById(id)));
        if (n === 4 && c === 'schema') return read(() => rawSchema(s.schemaById(id).schema));
        if (n === 4 && c === 'subjects') {
          return read(() => [...new Set(s.usesOf(id, flag(r.query, 'deleted')).map((v) => v.subject))]);
        }
        if (n === 4 && c === 'versions') {
          return read(() =>
            s.usesOf(id, flag(r.query, 'deleted')).map((v) => ({ subject: v.subject, version: v.version })),
          );
        }
      }
    }
    if (head === 'config' && n <= 2) {
      const subject = a ?? null;
      if (m === 'GET') {
        return read(() => ({ compatibilityLevel: s.getConfig(subject, flag(r.query, 'defaultToGlobal')) }));
      }
      if (m === 'PUT') {
        const req = bodyObject(r);
        return this.write(r, async () => ({ compatibility: await s.putConfig(subject, req) }));
      }
      if (m === 'DELETE')
        return this.write(r, async () => ({ compatibilityLevel: await s.deleteConfig(subject) }));
    }
    if (head === 'mode' && n <= 2) {
      const subject = a ?? null;
      if (m === 'GET') return read(() => ({ mode: s.getMode(subject, flag(r.query, 'defaultToGlobal')) }));
      if (m === 'PUT') {
        const req = bodyObject(r);
        return this.write(r, async () => ({ mode: await s.putMode(subject, req, flag(r.query, 'force')) }));
      }
      if (m === 'DELETE') return this.write(r, async () => ({ mode: await s.deleteMode(subject) }));
    }
    if (
      head === 'compatibility' &&
      a === 'subjects' &&
      c === 'versions' &&
      m === 'POST' &&
      (n === 4 || n === 5)
    ) {
      const subject = b as string;
      const req = bodyObject(r) as SchemaRequest;
      const version = n === 5 ? (d as string) : null;
      const verbose = flag(r.query, 'verbose');
      return read(() => {
        const messages = s.testCompatibility(subject, version, req);
        return verbose
          ? { is_compatible: messages.length === 0, messages }
          : { is_compatible: messages.length === 0 };
      });
    }
    throw new RegistryError(404, 'HTTP 404 Not Found', 404);
  }
}

function versionAnswer(v: {
  subject: string;
  id: number;
  version: number;
  schema: string;
  schemaType?: string;
}) {
  const out: Record<string, unknown> = { subject: v.subject, version: v.version, id: v.id };
  if (v.schemaType !== undefined && v.schemaType !== 'AVRO') out.schemaType = v.schemaType;
  out.schema = v.schema;
  return out;
}

function schemaAnswer(s: { schema: string; schemaType: string }) {
  return s.schemaType === 'AVRO' ? { schema: s.schema } : { schemaType: s.schemaType, schema: s.schema };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Sends a write on to the leader and relays its answer (status and body); null when it cannot be reached. */
async function forward(leaderUrl: string, r: Request): Promise<Answer | null> {
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPE, [FORWARDED_HEADER]: '1' };
  let res: Response;
  try {
    res = await fetch(`${leaderUrl}${r.path}`, {
      method: r.method,
      headers,
      body: r.raw.length > 0 ? r.raw.toString('utf8') : undefined,
      signal: AbortSignal.timeout(registryForwardTimeoutMs),
    });
  } catch {
    return null;
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RegistryError(
      E.REQUEST_FORWARDING_FAILED,
      `The leader ${leaderUrl} answered ${res.status}: ${text}`,
    );
  }
  return { status: res.status, body };
}
