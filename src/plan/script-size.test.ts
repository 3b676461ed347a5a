import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { parseScenario } from '../scenario/load.js';
import { thrown } from '../../test/thrown.js';
import { MAX_SCRIPT_BYTES, checkScriptSize } from './script-size.js';

const head = 'name: big\ndescription: d\nexpect: identical\n';
/** Three writes of 60 KB: one script of about 180 KB. */
const big = (at: string) =>
  `${at}:\n${[1, 2, 3].map((i) => `  - write: {path: /f${i}, content: "${'a'.repeat(60_000)}"}\n`).join('')}`;

describe('script size', () => {
  it('refuses a tree script over the limit at the steps, with what to do', () => {
    const e = thrown(() => checkScriptSize(parseScenario(head + big('steps'), 'big.yaml')), BadInputError);
    assert.equal(e.problems.length, 1);
    const [p] = e.problems;
    assert.deepEqual(
      { ...p, message: p!.message.replace(/\d+ bytes/, 'N bytes') },
      {
        file: 'big.yaml',
        line: 5,
        col: 3,
        path: '/steps',
        message: `the scenario compiles to N bytes; the limit is ${MAX_SCRIPT_BYTES}`,
        suggestion: 'use fewer or shorter steps (large `write` contents count fully)',
      },
    );
  });

  it('refuses an outside script over the same limit at the outside steps', () => {
    const loaded = parseScenario(`${head + big('outside')}steps: [{mkdir: /a}]\n`, 'o.yaml');
    const e = thrown(() => checkScriptSize(loaded), BadInputError);
    assert.match(e.message, /^o\.yaml:5:3: the outside steps compile to \d+ bytes; the limit is 122880 /);
    assert.match(e.message, /\(at \/outside\)\n {4}use fewer or shorter steps/);
  });

  it('lets a scenario under the limit through', () => {
    assert.doesNotThrow(() => checkScriptSize(parseScenario(`${head}steps: [{mkdir: /a}]\n`, 'ok.yaml')));
  });
});
