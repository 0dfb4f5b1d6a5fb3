// A request as it goes on the wire (int32 size + header + body), for tests that write raw frames to a broker's
// socket (floods, fairness, limits, shutdown, fuzzing).

import { apiSchemas, requestHeaderVersion } from '../../src/protocol/generated/apis.js';
import { encodeRequestHeader } from '../../src/protocol/generated/request-header.js';
import { Writer } from '../../src/protocol/writer.js';

export function requestFrame(
  apiKey: number,
  version: number,
  correlationId: number,
  body: unknown,
  clientId: string,
): Buffer {
  const schema = apiSchemas.get(apiKey);
  if (schema === undefined) throw new Error(`no schema ${apiKey}`);
  const w = new Writer(256);
  const sizePos = w.reserveInt32();
  encodeRequestHeader(w, requestHeaderVersion(apiKey, version), {
    requestApiKey: apiKey,
    requestApiVersion: version,
    correlationId,
    clientId,
  });
  schema.encodeRequest(w, version, body as never);
  w.patchInt32(sizePos, w.length - 4);
  return w.toBuffer();
}
