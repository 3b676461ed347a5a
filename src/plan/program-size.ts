import { BadInputError, type InputProblem } from '../errors.js';
import type { LoadedScenario } from '../scenario/load.js';
import { compileProgram } from './program.js';
import { serialiseProgram } from './wire.js';

/**
 * The program reaches the guest on the ssh channel's stdin and is kept in
 * the guest's memory (the helper's buffer, /run's tmpfs) while the scenario
 * runs. A scenario file is at most 1 MiB, but YAML aliases repeat what they
 * name: 4 MiB leaves a real scenario far below it and a 1 GiB guest safe.
 */
export const MAX_PROGRAM_BYTES = 4 * 1024 * 1024;

const SHORTER = 'use fewer or shorter steps (large `write` contents count fully, once per alias)';

/**
 * Refuses a scenario whose program no guest should be given. `run` compiles
 * a scenario only once its guest has booted; whoever loads scenarios for
 * running (validate and run, import) calls this first, so they are refused
 * before anything starts. The problem is placed at the steps or the outside
 * steps, whichever is the bigger part.
 */
export function checkProgramSize(loaded: LoadedScenario): void {
  const s = loaded.scenario;
  // Guest ids are s1, s2, ... by position in the run; the id's length barely matters.
  const bytes = Buffer.byteLength(serialiseProgram(compileProgram(s, 's9999')));
  if (bytes <= MAX_PROGRAM_BYTES) return;
  const outside = s.outside?.length
    ? Buffer.byteLength(serialiseProgram(compileProgram({ ...s, steps: [] }, 's9999')))
    : 0;
  const path = outside > bytes / 2 ? '/outside' : '/steps';
  const problem: InputProblem = {
    file: loaded.file,
    ...loaded.positionOf(path),
    path,
    message: `the scenario compiles to a program of ${bytes} bytes; the limit is ${MAX_PROGRAM_BYTES}`,
    suggestion: SHORTER,
  };
  throw new BadInputError([problem]);
}
