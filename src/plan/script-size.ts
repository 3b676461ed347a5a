import { BadInputError, type InputProblem } from '../errors.js';
import type { LoadedScenario } from '../scenario/load.js';
import { compileScenario } from './compile.js';

/**
 * Each script reaches the guest as one argument: the tree script of `bash -c`, the outside script
 * of labctl's `chroot ROOT bash -c "$(cat outside.sh)"`. Linux caps one argument at 128 KiB
 * (MAX_ARG_STRLEN); this leaves room for the id and file name the script carries.
 */
export const MAX_SCRIPT_BYTES = 120 * 1024;

const SHORTER = 'use fewer or shorter steps (large `write` contents count fully)';

/**
 * Refuses a scenario whose scripts no guest could be given. `run` compiles a scenario only once
 * its guest has booted, so a script too long was found after the boot; whoever loads scenarios
 * for running (validate and run, import) calls this first, so they are refused before anything
 * starts. Throws a BadInputError at the steps that make the script too long.
 */
export function checkScriptSize(loaded: LoadedScenario): void {
  // Guest ids are s1, s2, ... by position in the run; the id's length barely matters.
  const plan = compileScenario(loaded.scenario, { id: 's9999', file: loaded.file });
  const tree = Buffer.byteLength(plan.treeScript);
  const outside = Buffer.byteLength(plan.outsideScript);
  const problem = (path: string, message: string): InputProblem => ({
    file: loaded.file,
    ...loaded.positionOf(path),
    path,
    message,
    suggestion: SHORTER,
  });
  if (tree > MAX_SCRIPT_BYTES) {
    const message = `the scenario compiles to ${tree} bytes; the limit is ${MAX_SCRIPT_BYTES}`;
    throw new BadInputError([problem('/steps', message)]);
  }
  if (outside > MAX_SCRIPT_BYTES) {
    const message = `the outside steps compile to ${outside} bytes; the limit is ${MAX_SCRIPT_BYTES}`;
    throw new BadInputError([problem('/outside', message)]);
  }
}
