// The L0 ceilings of `npm run bench -- --only L` (bench/lib/limits.ts): small Node programs that measure what
// this machine does without a broker, run as child processes so that their CPU can be read from /proc like a
// broker's and a client's. After the method of ../shared/tools/limits (fsread.js, net-stream.js, sink.js), but
// with no dependency on it. Each mode prints "GO" when its timed part starts and one JSON line at the end.
//
//   append FILE BYTES CHUNK   appends BYTES to a fresh FILE in CHUNK-byte writeSync calls, no fsync:
//                             the page-cache append rate (the kernel's copy plus, for a fresh page cache, the
//                             first touch of the memory); prints {bytes, sec}
//   sink                      listens on 127.0.0.1, prints "PORT n", counts the bytes of one connection;
//                             prints {bytes, sec} (first byte .. end of the connection) and exits
//   send PORT BYTES CHUNK     writes one reused CHUNK-byte buffer to the sink until BYTES are sent ('drain'
//                             backpressure): loopback TCP, Node -> Node
//   filesend PORT FILE        reads FILE (already in the page cache) with readSync into a pool of eight 1 MiB
//                             page-aligned buffers, each recycled when its socket.write completes, and sends it
//                             to the sink: the best file -> socket path a Node broker has without sendfile
//
// Buffers come from one page-aligned slab: on this machine reads into a buffer 8-24 bytes past a 4 KiB boundary
// (where a large Buffer.allocUnsafe lands) run ~6x slower (PERF-NOTES).

import * as fs from 'node:fs';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';

const MiB = 1 << 20;

function out(o: Record<string, unknown>): Promise<void> {
  return new Promise((r) => process.stdout.write(`${JSON.stringify(o)}\n`, () => r()));
}

function go(): void {
  process.stdout.write('GO\n');
}

// 64 MiB is above glibc's largest mmap threshold (32 MiB), so the slab is always mmapped and its first byte sits
// at page + 16 (x86-64 glibc): offset 4080 is page-aligned (as in ../shared/tools/limits/fsread.js).
const SLAB_BYTES = 64 * MiB;
let slab: Buffer | null = null;

/** A size-byte buffer (<= 64 MiB) at a 4 KiB boundary. */
function aligned(size: number): Buffer {
  if (size > SLAB_BYTES) throw new Error(`buffer of ${size} bytes is larger than the slab`);
  slab ??= Buffer.allocUnsafeSlow(SLAB_BYTES + 8192);
  return slab.subarray(4080, 4080 + size);
}

function filled(size: number): Buffer {
  const b = aligned(size);
  for (let i = 0; i < size; i++) b[i] = (i * 2654435761) >>> 24;
  return b;
}

async function append(file: string, bytes: number, chunk: number): Promise<void> {
  const buf = filled(chunk);
  fs.rmSync(file, { force: true });
  const fd = fs.openSync(file, 'wx');
  go();
  const t0 = performance.now();
  let n = 0;
  while (n < bytes) n += fs.writeSync(fd, buf, 0, Math.min(chunk, bytes - n));
  const sec = (performance.now() - t0) / 1000;
  fs.closeSync(fd);
  await out({ bytes: n, sec });
}

function sink(): void {
  let bytes = 0;
  let first = 0;
  const server = net.createServer((sock) => {
    sock.on('data', (d: Buffer) => {
      if (first === 0) first = performance.now();
      bytes += d.length;
    });
    sock.on('end', () => {
      const sec = (performance.now() - first) / 1000;
      void out({ bytes, sec }).then(() => process.exit(0));
    });
    sock.on('error', () => process.exit(1));
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.stdout.write(`PORT ${typeof a === 'object' && a !== null ? a.port : 0}\n`);
  });
  // Never outlives a bench that forgot it.
  setTimeout(() => process.exit(2), 600_000).unref();
}

async function connect(port: number): Promise<net.Socket> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  return sock;
}

async function send(port: number, bytes: number, chunk: number): Promise<void> {
  const buf = filled(chunk);
  const sock = await connect(port);
  go();
  let n = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (n < bytes) {
        const len = Math.min(chunk, bytes - n);
        n += len;
        if (!sock.write(len === chunk ? buf : buf.subarray(0, len))) {
          sock.once('drain', pump);
          return;
        }
      }
      sock.end(resolve);
    };
    pump();
  });
  await out({ bytes: n });
}

async function filesend(port: number, file: string): Promise<void> {
  const pool: Buffer[] = [];
  const bufs = aligned(8 * MiB);
  for (let i = 0; i < 8; i++) pool.push(bufs.subarray(i * MiB, (i + 1) * MiB));
  const fd = fs.openSync(file, 'r');
  const sock = await connect(port);
  go();
  let waiter: (() => void) | null = null;
  const release = (b: Buffer): void => {
    pool.push(b);
    const w = waiter;
    waiter = null;
    w?.();
  };
  let n = 0;
  for (;;) {
    if (pool.length === 0) await new Promise<void>((r) => (waiter = r));
    const b = pool.pop() as Buffer;
    const r = fs.readSync(fd, b, 0, MiB, null);
    if (r <= 0) {
      pool.push(b);
      break;
    }
    n += r;
    sock.write(r === MiB ? b : b.subarray(0, r), () => release(b));
  }
  fs.closeSync(fd);
  await new Promise<void>((r) => sock.end(r));
  await out({ bytes: n });
}

async function main(argv: string[]): Promise<void> {
  const [mode, a, b, c] = argv;
  if (mode === 'append') return append(String(a), Number(b), Number(c));
  if (mode === 'sink') return sink();
  if (mode === 'send') return send(Number(a), Number(b), Number(c));
  if (mode === 'filesend') return filesend(Number(a), String(b));
  throw new Error(`limits-probe: unknown mode ${mode}`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`limits-probe: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
