import { describe, expect, it } from 'vitest';
import { newJid } from '../../src/jobs/jid.js';

describe('newJid', () => {
  it('draws 16 URL-safe characters, none twice in 200,000 jids, and never starts with - or _ (a command line would read an option)', () => {
    const jids = Array.from({ length: 200_000 }, () => newJid());
    expect(jids.every((jid) => /^[A-Za-z0-9][A-Za-z0-9_-]{15}$/.test(jid))).toBe(true);
    expect(new Set(jids).size).toBe(jids.length);
    // Every other first character still occurs: the top bit is cleared only for the two that would start an option.
    expect(new Set(jids.map((jid) => jid[0])).size).toBe(62);
  });
});
