import { Writable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { fieldsJson, numberJson } from '../../src/observability/line-json.js';
import { flushLogger, infoWriter, laglessLogger } from '../../src/observability/logger.js';

describe('numberJson', () => {
  it('writes what String() writes, for whole microseconds of every size and for numbers that are not', () => {
    const values = [0, -0, 1, 7, 1e6, 0.5, 0.000001, 0.000123, 0.0015, 1.000001, 123.456, 999999999.999999, 0.1 + 0.2, 1 / 3, 1e-7, 2.5e-7, 1e21, 123456789012345.6, -0.000123, -42.5, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE];
    for (let digits = 0; digits <= 16; digits++) {
      for (let i = 0; i < 5000; i++) values.push(Math.round(Math.random() * 10 ** digits) / 1e6);
    }
    const wrong = values.filter((value) => numberJson(value) !== String(value));
    expect(wrong.map((value) => [value, numberJson(value)])).toEqual([]);
  });
});

/** What pino writes for these fields and message, with lagless's options but no time. */
function pinoLine(fields: Record<string, unknown>, msg: string): string {
  let line = '';
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => ((line += chunk.toString()), done()) });
  pino({ base: undefined, timestamp: false }, sink).info(fields, msg);
  return line;
}

const ourLine = (fields: Record<string, unknown>, msg: string): string => `{"level":30${fieldsJson(fields)!},"msg":${JSON.stringify(msg)}}\n`;

describe('fieldsJson', () => {
  it('writes the fields as pino does: strings escaped, objects, null, booleans, non-finite numbers as null, undefined left out', () => {
    const cycle: Record<string, unknown> = {};
    const fields = {
      class: 'Say"Hi"\\Worker',
      jid: 'a1b2c3',
      queue: 'tab\tand\nnewline and ünïcödé ✓',
      retry_count: 2,
      wal_locations: { main: '0/16B3748', ci: 'A/0' },
      list: [1, 'two', null],
      nothing: null,
      flag: true,
      off: false,
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      skipped: undefined,
      fn: () => cycle,
      sym: Symbol('s'),
      hidden: { toJSON: () => undefined },
      duration_s: 0.000362,
      scheduling_latency_s: 12.5,
      'odd "key"': 'x',
    };
    expect(ourLine(fields, 'done "quoted"')).toBe(pinoLine(fields, 'done "quoted"'));
  });

  it('leaves to pino what it would handle differently: an err, a bigint, a cycle', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(fieldsJson({ jid: 'a', err: new Error('boom') })).toBeUndefined();
    expect(fieldsJson({ jid: 'a', big: 10n })).toBeUndefined();
    expect(fieldsJson({ jid: 'a', cycle })).toBeUndefined();
  });
});

describe('infoWriter', () => {
  it("writes pino's own line to laglessLogger's destination, later bindings included, and hands pino what it must serialize", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lagless-lines-'));
    try {
      const file = join(dir, 'lines.log');
      const logger = laglessLogger({ destination: file });
      const info = infoWriter(logger);
      const fields = { class: 'W', jid: 'j1', queue: 'q', retry_count: 0, wal_locations: { main: '0/1' }, duration_s: 0.0015, job_status: 'done' };
      logger.setBindings({ service: 'api' });
      info(fields, 'done');
      logger.info(fields, 'done');
      info({ jid: 'j2', err: new Error('boom') }, 'failed');
      await flushLogger(logger);
      const [ours, theirs, fallback] = readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => line.replace(/"time":"[^"]*"/, '"time":"T"'));
      expect(ours).toBe(theirs);
      expect(JSON.parse(ours!)).toMatchObject({ level: 30, service: 'api', jid: 'j1', duration_s: 0.0015, msg: 'done' });
      expect(JSON.parse(fallback!)).toMatchObject({ jid: 'j2', err: { type: 'Error', message: 'boom' }, msg: 'failed' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('calls info on any other logger', () => {
    const seen: unknown[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (seen.push(JSON.parse(chunk.toString())), done()) });
    const logger = pino({ base: undefined, mixin: () => ({ from: 'mixin' }) }, sink);
    infoWriter(logger)({ jid: 'j3' }, 'done');
    expect(seen).toEqual([expect.objectContaining({ jid: 'j3', from: 'mixin', msg: 'done' })]);
  });
});
