// GET /metrics over HTTP for a prom-client registry: the broker's metrics (metrics.ts) and the pipeline tools'
// (mirror-metrics.ts, sink-metrics.ts) share it. Anything else gets a 404 naming the one path there is.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export class MetricsEndpoint {
  private server: http.Server | null = null;

  constructor(private readonly registry: Registry) {}

  /** Starts serving; resolves with the bound port (0 picks a free one). */
  listen(host: string, port: number): Promise<number> {
    const server = http.createServer((req, res) => {
      const url = req.url ?? '/';
      if (req.method !== 'GET' || (url !== '/metrics' && !url.startsWith('/metrics?'))) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
      );
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops serving and drops open connections. */
  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s === null) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
