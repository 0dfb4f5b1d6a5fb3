// Confluent Schema Registry's error catalog (its rest/exceptions/Errors.java): the HTTP status is the
// first three digits of error_code (409 stands alone), the body is {"error_code": N, "message": "..."}.

export const RegistryErrorCode = {
  SUBJECT_NOT_FOUND: 40401,
  VERSION_NOT_FOUND: 40402,
  SCHEMA_NOT_FOUND: 40403,
  SUBJECT_SOFT_DELETED: 40404,
  SUBJECT_NOT_SOFT_DELETED: 40405,
  SCHEMA_VERSION_SOFT_DELETED: 40406,
  SCHEMA_VERSION_NOT_SOFT_DELETED: 40407,
  SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED: 40408,
  SUBJECT_LEVEL_MODE_NOT_CONFIGURED: 40409,
  INCOMPATIBLE_SCHEMA: 409,
  INVALID_SCHEMA: 42201,
  INVALID_VERSION: 42202,
  INVALID_COMPATIBILITY_LEVEL: 42203,
  INVALID_MODE: 42204,
  OPERATION_NOT_PERMITTED: 42205,
  REFERENCE_EXISTS: 42206,
  ID_DOES_NOT_MATCH: 42207,
  INVALID_SUBJECT: 42208,
  STORE_ERROR: 50001,
  OPERATION_TIMEOUT: 50002,
  REQUEST_FORWARDING_FAILED: 50003,
  UNKNOWN_LEADER: 50004,
} as const;

export class RegistryError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
    /** HTTP status; by default the error code's first three digits. */
    readonly status = errorCode < 1000 ? errorCode : Math.floor(errorCode / 100),
  ) {
    super(message);
  }
}

const E = RegistryErrorCode;

export const subjectNotFound = (s: string) =>
  new RegistryError(E.SUBJECT_NOT_FOUND, `Subject '${s}' not found.`);
export const versionNotFound = (v: number | string) =>
  new RegistryError(E.VERSION_NOT_FOUND, `Version ${v} not found.`);
export const schemaNotFound = (detail = 'Schema not found') => new RegistryError(E.SCHEMA_NOT_FOUND, detail);
export const invalidSchema = (msg: string) => new RegistryError(E.INVALID_SCHEMA, msg);
export const invalidVersion = (v: string) =>
  new RegistryError(
    E.INVALID_VERSION,
    `The specified version '${v}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
  );
export const invalidCompatibility = () =>
  new RegistryError(
    E.INVALID_COMPATIBILITY_LEVEL,
    'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive',
  );
export const invalidMode = () =>
  new RegistryError(
    E.INVALID_MODE,
    'Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE, IMPORT',
  );
export const notPermitted = (msg: string) => new RegistryError(E.OPERATION_NOT_PERMITTED, msg);
