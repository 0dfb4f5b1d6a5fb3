// The in-flight limit of a ZooKeeper client (zookeeper.max.in.flight.requests): at most `max` calls hold
// a slot; the others wait in order, each until its own deadline.

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class Slots {
  private used = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly max: number) {}

  /** Resolves when the caller holds a slot; rejects with `timedOut()` at `deadline` (ms since the epoch). */
  acquire(deadline: number, timedOut: () => Error): Promise<void> {
    if (this.used < this.max) {
      this.used += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        resolve,
        reject,
        timer: setTimeout(
          () => {
            const i = this.waiting.indexOf(w);
            if (i >= 0) this.waiting.splice(i, 1);
            reject(timedOut());
          },
          Math.max(0, deadline - Date.now()),
        ),
      };
      this.waiting.push(w);
    });
  }

  /** Gives a slot back: to the first waiter, if any. */
  release(): void {
    const next = this.waiting.shift();
    if (next === undefined) {
      this.used -= 1;
      return;
    }
    clearTimeout(next.timer);
    next.resolve(); // the slot passes on: `used` stays
  }

  /** Rejects every waiter (the client is closing). */
  failWaiting(error: () => Error): void {
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(error());
    }
  }
}
