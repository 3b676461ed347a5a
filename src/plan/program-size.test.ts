import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { parseScenario } from '../scenario/load.js';
import { thrown } from '../../test/thrown.js';
import { MAX_PROGRAM_BYTES, checkProgramSize } from './program-size.js';

const head = 'name: big\ndescription: d\nexpect: identical\n';
/** One 60 KB write named by an anchor and written again 75 times through aliases: a 4.5 MB program. */
const big = (at: string) =>
  `${at}:\n  - write: {path: /f0, content: &big "${'a'.repeat(60_000)}"}\n` +
  Array.from({ length: 75 }, (_, i) => `  - write: {path: /f${i + 1}, content: *big}\n`).join('');

describe('program size', () => {
  it('refuses a program over the limit at the steps, with what to do', () => {
    const e = thrown(() => checkProgramSize(parseScenario(head + big('steps'), 'big.yaml')), BadInputError);
    assert.equal(e.problems.length, 1);
    const [p] = e.problems;
    assert.deepEqual(
      { ...p, message: p!.message.replace(/\d+ bytes/, 'N bytes') },
      {
        file: 'big.yaml',
        line: 5,
        col: 3,
        path: '/steps',
        message: `the scenario compiles to a program of N bytes; the limit is ${MAX_PROGRAM_BYTES}`,
        suggestion: 'use fewer or shorter steps (large `write` contents count fully, once per alias)',
      },
    );
  });

  it('places it at the outside steps when they are the bulk of it', () => {
    const loaded = parseScenario(`${head + big('outside')}steps: [{mkdir: /a}]\n`, 'o.yaml');
    const e = thrown(() => checkProgramSize(loaded), BadInputError);
    assert.match(e.message, /^o\.yaml:5:3: the scenario compiles to a program of \d+ bytes; the limit is 4194304 /);
    assert.match(e.message, /\(at \/outside\)\n {4}use fewer or shorter steps/);
  });

  it('lets through what the bash tree script could not carry (three 60 KB writes), and a small scenario', () => {
    const write = (i: number) => `  - write: {path: /f${i}, content: "${'a'.repeat(60_000)}"}\n`;
    const three = `steps:\n${[1, 2, 3].map(write).join('')}`;
    assert.doesNotThrow(() => checkProgramSize(parseScenario(head + three, 'three.yaml')));
    assert.doesNotThrow(() => checkProgramSize(parseScenario(`${head}steps: [{mkdir: /a}]\n`, 'ok.yaml')));
  });
});
