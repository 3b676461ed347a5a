import { BadInputError } from '../errors.js';
import { checkModel } from '../plan/model-check.js';
import { checkProgramSize } from '../plan/program-size.js';
import { discoverScenarioFiles, loadScenarioFile, type LoadedScenario } from '../scenario/load.js';

/** The scenarios to validate or run, each refused if it is bad input or too big for a guest. */
export async function loadAll(paths: string[]): Promise<LoadedScenario[]> {
  const files = await discoverScenarioFiles(paths);
  if (files.length === 0)
    throw new BadInputError([
      { file: paths.join(' '), line: 1, col: 1, path: '', message: 'no scenario files (*.yaml) found' },
    ]);
  const loaded: LoadedScenario[] = [];
  const problems: BadInputError[] = [];
  for (const f of files) {
    try {
      const l = await loadScenarioFile(f);
      checkProgramSize(l);
      checkModel(l);
      loaded.push(l);
    } catch (e) {
      if (e instanceof BadInputError) problems.push(e);
      else throw e;
    }
  }
  const names = new Map<string, string>();
  for (const l of loaded) {
    const prev = names.get(l.scenario.name);
    if (prev)
      problems.push(
        new BadInputError([
          {
            file: l.file,
            line: 1,
            col: 1,
            path: '/name',
            message: `scenario name '${l.scenario.name}' is also used by ${prev}`,
          },
        ]),
      );
    names.set(l.scenario.name, l.file);
  }
  if (problems.length) throw new BadInputError(problems.flatMap((p) => p.problems));
  return loaded;
}
