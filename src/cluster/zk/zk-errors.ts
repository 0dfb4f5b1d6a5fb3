// Errors of the ZooKeeper client (zk-client.ts): one class per outcome a caller branches on, each naming
// the operation, the path and ZooKeeper's name for the error (KeeperException.Code), e.g.
//   "ZooKeeper setData /brokers/topics/t/partitions/0/state: BADVERSION (expected version 3)".

/** ZooKeeper's error codes (org.apache.zookeeper.KeeperException.Code) by number. */
export const zkCodeNames: ReadonlyMap<number, string> = new Map([
  [-1, 'SYSTEMERROR'],
  [-2, 'RUNTIMEINCONSISTENCY'],
  [-3, 'DATAINCONSISTENCY'],
  [-4, 'CONNECTIONLOSS'],
  [-5, 'MARSHALLINGERROR'],
  [-6, 'UNIMPLEMENTED'],
  [-7, 'OPERATIONTIMEOUT'],
  [-8, 'BADARGUMENTS'],
  [-12, 'UNKNOWNSESSION'],
  [-13, 'NEWCONFIGNOQUORUM'],
  [-14, 'RECONFIGINPROGRESS'],
  [-100, 'APIERROR'],
  [-101, 'NONODE'],
  [-102, 'NOAUTH'],
  [-103, 'BADVERSION'],
  [-108, 'NOCHILDRENFOREPHEMERALS'],
  [-110, 'NODEEXISTS'],
  [-111, 'NOTEMPTY'],
  [-112, 'SESSIONEXPIRED'],
  [-113, 'INVALIDCALLBACK'],
  [-114, 'INVALIDACL'],
  [-115, 'AUTHFAILED'],
  [-118, 'SESSIONMOVED'],
  [-119, 'NOTREADONLY'],
  [-120, 'EPHEMERALONLOCALSESSION'],
  [-121, 'NOWATCHER'],
  [-122, 'REQUESTTIMEOUT'],
  [-123, 'RECONFIGDISABLED'],
  [-124, 'SESSIONCLOSEDREQUIRESASLAUTH'],
  [-125, 'QUOTAEXCEEDED'],
  [-127, 'THROTTLEDOP'],
]);

/**
 * ZooKeeper's name for the error, or one of the client's own:
 * CLOSED (the client was closed), TOOLARGE (a request over jute.maxbuffer, refused before sending),
 * BADPATH (not a valid znode path).
 * OPERATIONTIMEOUT is also what a call that outlived its timeout fails with.
 */
export type ZkCode =
  | 'NONODE'
  | 'NODEEXISTS'
  | 'BADVERSION'
  | 'NOTEMPTY'
  | 'CONNECTIONLOSS'
  | 'SESSIONEXPIRED'
  | 'OPERATIONTIMEOUT'
  | 'NOCHILDRENFOREPHEMERALS'
  | 'CLOSED'
  | 'TOOLARGE'
  | 'BADPATH'
  | (string & {});

export class ZkError extends Error {
  constructor(
    /** ZooKeeper's name for the error (see ZkCode). */
    readonly code: ZkCode,
    /** The operation: getData, create, multi, ... */
    readonly op: string,
    /** The znode path (without the chroot), when the operation has one. */
    readonly path: string | undefined,
    detail?: string,
  ) {
    super(`ZooKeeper ${op}${path === undefined ? '' : ` ${path}`}: ${code}${detail ? ` (${detail})` : ''}`);
    this.name = 'ZkError';
  }
}

export class ZkNoNodeError extends ZkError {
  constructor(op: string, path: string | undefined, detail?: string) {
    super('NONODE', op, path, detail);
    this.name = 'ZkNoNodeError';
  }
}

export class ZkNodeExistsError extends ZkError {
  constructor(op: string, path: string | undefined, detail?: string) {
    super('NODEEXISTS', op, path, detail);
    this.name = 'ZkNodeExistsError';
  }
}

/** A conditional write found another version than the one it expected. */
export class ZkBadVersionError extends ZkError {
  constructor(op: string, path: string | undefined, detail?: string) {
    super('BADVERSION', op, path, detail);
    this.name = 'ZkBadVersionError';
  }
}

export class ZkNotEmptyError extends ZkError {
  constructor(op: string, path: string | undefined, detail?: string) {
    super('NOTEMPTY', op, path, detail);
    this.name = 'ZkNotEmptyError';
  }
}

/**
 * The connection broke with the request in flight: it may or may not have been applied. The session lives
 * on (unless it expires); reads can simply be retried, conditional writes must check what happened.
 */
export class ZkConnectionLossError extends ZkError {
  constructor(op: string, path: string | undefined, detail?: string) {
    super('CONNECTIONLOSS', op, path, detail);
    this.name = 'ZkConnectionLossError';
  }
}

/** The session the request was sent on expired: its ephemeral znodes and watches are gone. */
export class ZkSessionExpiredError extends ZkError {
  constructor(op: string, path: string | undefined, detail?: string) {
    super('SESSIONEXPIRED', op, path, detail);
    this.name = 'ZkSessionExpiredError';
  }
}

/** The call outlived its timeout; like a connection loss, a write may still have been applied. */
export class ZkTimeoutError extends ZkError {
  constructor(op: string, path: string | undefined, detail?: string) {
    super('OPERATIONTIMEOUT', op, path, detail);
    this.name = 'ZkTimeoutError';
  }
}

/** connect() found no ZooKeeper within zookeeper.connection.timeout.ms. */
export class ZkConnectTimeoutError extends ZkTimeoutError {
  constructor(connectString: string, timeoutMs: number) {
    super('connect', undefined);
    this.name = 'ZkConnectTimeoutError';
    this.message =
      `could not connect to ZooKeeper at ${connectString} (zookeeper.connect) within ${timeoutMs} ms ` +
      '(zookeeper.connection.timeout.ms); is ZooKeeper running and reachable there?';
  }
}

/** Which operation of a multi failed, and why; none of its operations was applied. */
export class ZkMultiError extends ZkError {
  constructor(
    /** Index of the operation that failed. */
    readonly failedIndex: number,
    /** That operation's own error (e.g. a ZkBadVersionError for a failed check). */
    readonly failure: ZkError,
    /** ZooKeeper's name for each operation's result: OK before the failure, RUNTIMEINCONSISTENCY after. */
    readonly opCodes: readonly string[],
  ) {
    super(failure.code, 'multi', failure.path, `operation ${failedIndex} (${failure.op}) failed`);
    this.name = 'ZkMultiError';
  }
}

/** The error for a ZooKeeper result code; unknown codes keep their number in the name. */
export function zkError(code: number, op: string, path: string | undefined, detail?: string): ZkError {
  const name = zkCodeNames.get(code) ?? `UNKNOWN(${code})`;
  switch (name) {
    case 'NONODE':
      return new ZkNoNodeError(op, path, detail);
    case 'NODEEXISTS':
      return new ZkNodeExistsError(op, path, detail);
    case 'BADVERSION':
      return new ZkBadVersionError(op, path, detail);
    case 'NOTEMPTY':
      return new ZkNotEmptyError(op, path, detail);
    case 'CONNECTIONLOSS':
      return new ZkConnectionLossError(op, path, detail);
    case 'SESSIONEXPIRED':
      return new ZkSessionExpiredError(op, path, detail);
    case 'OPERATIONTIMEOUT':
      return new ZkTimeoutError(op, path, detail);
    default:
      return new ZkError(name, op, path, detail);
  }
}

/** Whether `e` is a ZkError with the given code (a failed multi counts with its failing operation's code). */
export function isZkError(e: unknown, code?: ZkCode): e is ZkError {
  return e instanceof ZkError && (code === undefined || e.code === code);
}
