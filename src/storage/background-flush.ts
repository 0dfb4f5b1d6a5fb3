// The flush Kafka runs after each roll, off the request path: every segment from the one holding the recovery
// point up to the new active segment (.log and both indexes) and the partition directory are fsynced without
// blocking the event loop; the log's recovery point then moves to the new segment's base offset. One flush runs
// at a time per log; rolls while it runs only raise the target of the next one.

import { fsyncFiles } from './io-errors.js';

export interface BackgroundFlushHooks {
  /** The files of the segments below upTo not yet known to be on disk. */
  filesBelow(upTo: number): string[];
  /** Everything below upTo is on disk. */
  flushed(upTo: number): void;
  /** A flush failed (an I/O error takes the log dir offline). */
  failed(e: unknown): void;
  /** False once the log is closed or offline: results are dropped and nothing more runs. */
  live(): boolean;
}

export class BackgroundFlush {
  private target = -1;
  private running = false;

  constructor(
    private readonly dir: string,
    private readonly hooks: BackgroundFlushHooks,
  ) {}

  /** Asks for everything below upTo to be fsynced. */
  request(upTo: number): void {
    this.target = Math.max(this.target, upTo);
    if (this.running) return;
    const target = this.target;
    this.running = true;
    fsyncFiles(this.hooks.filesBelow(target), this.dir).then(
      () => {
        this.running = false;
        if (!this.hooks.live()) return;
        this.hooks.flushed(target);
        if (this.target > target) this.request(this.target);
      },
      (e: unknown) => {
        this.running = false;
        if (this.hooks.live()) this.hooks.failed(e);
      },
    );
  }
}
