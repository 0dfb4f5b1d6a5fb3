// A start-up failure an operator can act on: it names the setting at fault (listeners, log.dirs,
// metrics.http.port, ...) and says what went wrong in one line. `samsa broker` prints it and exits non-zero.

export class StartupError extends Error {
  constructor(
    /** The server.properties key to look at; null when no single setting is at fault. */
    readonly setting: string | null,
    readonly detail: string,
  ) {
    super(setting === null ? detail : `${setting}: ${detail}`);
  }
}
