import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { assetPath } from '../paths.js';
import { MountinfoParseError } from './mountinfo.js';

/** A mountinfo fixture, read as latin1 like every capture. */
export const fixture = (name: string): string => readFileSync(assetPath('test/fixtures/mountinfo', name), 'latin1');

/** Runs `fn`, which must throw a MountinfoParseError, and returns it. */
export function parseError(fn: () => unknown): MountinfoParseError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MountinfoParseError, `expected MountinfoParseError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a parse error');
}
