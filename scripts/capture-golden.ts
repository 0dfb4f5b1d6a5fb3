// Captures golden protocol frames from real clients talking to a real Apache Kafka broker.
//
// A recording TCP proxy sits between the client and Kafka (Kafka must advertise the proxy's port,
// so every connection goes through it). For each (API, version) the first request the client
// sends and the first response Kafka answers are saved as
//   test/protocol/golden/<client>/<ApiName>-v<version>-request.json  (frame without the size prefix)
//   test/protocol/golden/<client>/<ApiName>-v<version>-response.json
// Both sides are foreign bytes: requests encoded by the client, responses encoded by Kafka, so the
// codec tests that decode and re-encode them do not only read back what our own encoder wrote.
//
// Usage: node --import tsx scripts/capture-golden.ts --client NAME --listen PORT --target HOST:PORT [--max-bytes N]
// Runs until SIGINT/SIGTERM.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { apiSchemas } from '../src/protocol/generated/apis.js';

const { values } = parseArgs({
  options: {
    client: { type: 'string' },
    listen: { type: 'string' },
    target: { type: 'string' },
    'max-bytes': { type: 'string', default: '65536' },
    out: { type: 'string', default: 'test/protocol/golden' },
  },
});
if (values.client === undefined || values.listen === undefined || values.target === undefined) {
  process.stderr.write('usage: capture-golden.ts --client NAME --listen PORT --target HOST:PORT\n');
  process.exit(2);
}
const [targetHost, targetPort] = values.target.split(':');
const maxBytes = Number(values['max-bytes']);
const outDir = path.join(values.out, values.client);
mkdirSync(outDir, { recursive: true });

function save(apiKey: number, version: number, kind: 'request' | 'response', frame: Buffer): void {
  const name = apiSchemas.get(apiKey)?.name ?? `Api${apiKey}`;
  const file = path.join(outDir, `${name}-v${version}-${kind}.json`);
  if (existsSync(file) || frame.length > maxBytes) return;
  writeFileSync(file, `${JSON.stringify({ apiKey, version, hex: frame.toString('hex') })}\n`);
  process.stderr.write(`captured ${file} (${frame.length} bytes)\n`);
}

/** Splits a byte stream into size-prefixed frames. */
function framer(onFrame: (f: Buffer) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 4) {
      const size = buf.readInt32BE(0);
      if (buf.length < 4 + size) return;
      onFrame(Buffer.from(buf.subarray(4, 4 + size)));
      buf = buf.subarray(4 + size);
    }
  };
}

net
  .createServer((client) => {
    const upstream = net.connect({ host: targetHost, port: Number(targetPort) });
    const inflight = new Map<number, { apiKey: number; version: number }>();
    const fromClient = framer((f) => {
      const apiKey = f.readInt16BE(0);
      const version = f.readInt16BE(2);
      inflight.set(f.readInt32BE(4), { apiKey, version });
      save(apiKey, version, 'request', f);
    });
    const fromServer = framer((f) => {
      const req = inflight.get(f.readInt32BE(0));
      if (req === undefined) return;
      inflight.delete(f.readInt32BE(0));
      save(req.apiKey, req.version, 'response', f);
    });
    client.on('data', (d: Buffer) => {
      fromClient(d);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      fromServer(d);
      client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  })
  .listen(Number(values.listen), '127.0.0.1', () =>
    process.stderr.write(`capture proxy on ${values.listen}\n`),
  );
