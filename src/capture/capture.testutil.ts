import { readFileSync } from 'node:fs';
import { assetPath } from '../paths.js';
import { MountinfoParseError } from './mountinfo.js';
import { thrown } from '../../test/thrown.js';

/** A mountinfo fixture, read as latin1 like every capture. */
export const fixture = (name: string): string => readFileSync(assetPath('test/fixtures/mountinfo', name), 'latin1');

/** Runs `fn`, which must throw a MountinfoParseError, and returns it. */
export function parseError(fn: () => unknown): MountinfoParseError {
  return thrown(fn, MountinfoParseError);
}
