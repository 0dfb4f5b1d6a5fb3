// The two log formats, level filtering and SAMSA_LOG_LEVEL validation.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  createLogger,
  envLogLevel,
  formatLine,
  setLogFormat,
  setLogLevel,
  setLogSink,
} from '../src/logger.js';

describe('logger', () => {
  const lines: string[] = [];
  setLogSink((l) => lines.push(l));
  after(() => {
    setLogFormat('json');
    setLogLevel('info');
  });

  it('json: one object per line with ts, level, logger, msg and the fields', () => {
    const line = formatLine('json', '2026-01-01T00:00:00.000Z', 'warn', 'storage', 'segment rolled', {
      topic: 't',
      partition: 3,
      error: new Error('disk full'),
      big: 2n ** 64n,
    });
    assert.ok(line.endsWith('\n'));
    assert.deepEqual(JSON.parse(line), {
      ts: '2026-01-01T00:00:00.000Z',
      level: 'warn',
      logger: 'storage',
      msg: 'segment rolled',
      topic: 't',
      partition: 3,
      error: 'disk full',
      big: '18446744073709551616',
    });
  });

  it('text: one readable line; values that could be misread are quoted', () => {
    const line = formatLine('text', '2026-01-01T00:00:00.000Z', 'info', 'broker', 'Samsa broker started', {
      nodeId: 0,
      listener: 'PLAINTEXT://127.0.0.1:9092',
      reason: 'peer reset',
      dirs: ['/a', '/b'],
      empty: '',
    });
    assert.equal(
      line,
      '2026-01-01T00:00:00.000Z INFO  broker: Samsa broker started nodeId=0 listener=PLAINTEXT://127.0.0.1:9092 ' +
        'reason="peer reset" dirs=["/a","/b"] empty=""\n',
    );
  });

  it('filters by level and switches format at run time', () => {
    const log = createLogger('t');
    lines.length = 0;
    setLogLevel('warn');
    log.info('hidden');
    log.warn('shown', { n: 1 });
    setLogFormat('text');
    log.error('also shown');
    setLogLevel('debug');
    log.debug('now shown');
    assert.equal(lines.length, 3);
    assert.equal(JSON.parse(lines[0] as string).msg, 'shown');
    assert.match(lines[1] as string, /^\S+ ERROR t: also shown\n$/);
    assert.match(lines[2] as string, /^\S+ DEBUG t: now shown\n$/);
  });

  it('SAMSA_LOG_LEVEL: a level, unset, or an error naming the variable', () => {
    assert.equal(envLogLevel({ SAMSA_LOG_LEVEL: 'debug' }), 'debug');
    assert.equal(envLogLevel({ SAMSA_LOG_LEVEL: 'WARN' }), 'warn');
    assert.equal(envLogLevel({}), undefined);
    assert.equal(envLogLevel({ SAMSA_LOG_LEVEL: '' }), undefined);
    assert.throws(
      () => envLogLevel({ SAMSA_LOG_LEVEL: 'verbose' }),
      /SAMSA_LOG_LEVEL must be one of debug, info, warn, error; got "verbose"/,
    );
  });
});
