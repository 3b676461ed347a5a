import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { parseScenario } from './load.js';

const head = 'name: t\ndescription: d\n';

/** [what, document, expected "line:col", message pattern] */
const MALFORMED: [string, string, string, RegExp][] = [
  ['unknown step, near miss', `${head}steps:\n  - make-slaev: /a\nexpect: identical\n`, '4:5', /unknown step 'make-slaev', did you mean 'make-slave'\?/],
  ['unknown step, far', `${head}steps:\n  - frobnicate: /a\nexpect: identical\n`, '4:5', /unknown step 'frobnicate'/],
  ['unknown top-level field', `${head}steps: [{mkdir: /a}]\nexpect: identical\nexpcet: 1\n`, '5:1', /unknown field 'expcet'/],
  ['duplicate key', `name: a\nname: b\ndescription: d\nsteps: [{mkdir: /a}]\nexpect: identical\n`, '2:1', /duplicate key/],
  ['tab indentation', `${head}steps:\n\t- mkdir: /a\nexpect: identical\n`, '4:1', /tab/],
  ['relative path', `${head}steps:\n  - mkdir: a/b\nexpect: identical\n`, '4:12', /must be absolute/],
  ['.. escapes root', `${head}steps:\n  - bind: {source: /a/../../etc, target: /b}\nexpect: identical\n`, '4:20', /escapes the scenario root/],
  ['missing target', `${head}steps:\n  - bind: {source: /a}\nexpect: identical\n`, '4:11', /missing required field 'target'/],
  ['two keys in one step', `${head}steps:\n  - {mkdir: /a, bind: {source: /a, target: /b}}\nexpect: identical\n`, '4:5', /exactly one key/],
  ['empty step', `${head}steps:\n  - {}\nexpect: identical\n`, '4:5', /needs a name/],
  ['expect typo', `${head}steps: [{mkdir: /a}]\nexpect: identicl\n`, '4:9', /did you mean 'identical'/],
  ['bad regex in expectation', `${head}steps: [{mkdir: /a}]\nexpect: {dump-fails: "("}\n`, '4:22', /not a valid regular expression/],
  ['no steps', `${head}steps: []\nexpect: identical\n`, '3:8', /fewer than 1/],
  ['missing expect', `${head}steps: [{mkdir: /a}]\n`, '1:1', /missing required field 'expect'/],
  ['bad name', `name: "Hello World"\ndescription: d\nsteps: [{mkdir: /a}]\nexpect: identical\n`, '1:7', /name "Hello World" must be/],
  ['number where path', `${head}steps:\n  - make-shared: 42\nexpect: identical\n`, '4:18', /expected a string or a mapping, got number 42/],
  ['negative timeout', `${head}steps: [{mkdir: /a}]\ntimeouts: {dump: -5}\nexpect: identical\n`, '4:18', /must be >= 1/],
  ['huge timeout', `${head}steps: [{mkdir: /a}]\ntimeouts: {dump: 99999999}\nexpect: identical\n`, '4:18', /too large/],
  ['unknown option in step', `${head}steps:\n  - umount: {path: /a, lazzy: true}\nexpect: identical\n`, '4:24', /unknown field 'lazzy', did you mean 'lazy'\?/],
  ['mount option with shell metacharacters', `${head}steps:\n  - mount: {fstype: tmpfs, target: /a, options: "size=1m;reboot"}\nexpect: identical\n`, '4:49', /not allowed here/],
  ['fstype with space', `${head}steps:\n  - mount: {fstype: "tmp fs", target: /a}\nexpect: identical\n`, '4:21', /not allowed here/],
  ['NUL byte', `${head}steps: [{mkdir: /a}]\u0000\nexpect: identical\n`, '3:21', /NUL byte/],
  ['not a mapping', `- a\n- b\n`, '1:1', /expected a mapping, got a list/],
  ['empty file', ``, '1:1', /empty document/],
  ['YAML syntax error', `${head}steps: [{mkdir: /a}\nexpect: identical\n`, '4:1', /YAML syntax/],
  ['alias bomb', `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`, '1:1', /resource exhaustion|alias/i],
];

describe('scenario loading', () => {
  for (const [what, doc, where, message] of MALFORMED) {
    it(`rejects ${what} at ${where}`, () => {
      try {
        parseScenario(doc, 'bad.yaml');
      } catch (e) {
        assert.ok(e instanceof BadInputError, `not a BadInputError: ${String(e)}`);
        assert.equal(e.exitCode, 2);
        const first = e.problems[0]!;
        assert.equal(`${first.line}:${first.col}`, where, e.message);
        assert.match(e.message, message);
        assert.match(e.message, new RegExp(`^bad\\.yaml:${where}: `));
        return;
      }
      assert.fail('accepted a malformed document');
    });
  }

  it('accepts a well-formed scenario and keeps its steps in order', () => {
    const s = parseScenario(`${head}steps:\n  - mkdir: [/w, /a]\n  - mount: {fstype: tmpfs, target: /w}\n  - make-shared: {path: /w, recursive: true}\nexpect: identical\n`, 'ok.yaml');
    assert.deepEqual(
      s.scenario.steps.map((st) => Object.keys(st)[0]),
      ['mkdir', 'mount', 'make-shared'],
    );
  });

  it('keeps shell metacharacters in names as data', () => {
    const s = parseScenario(`${head}steps:\n  - mkdir: "/w/$(reboot)/\`id\`/it's"\nexpect: identical\n`, 'ok.yaml');
    assert.equal(s.scenario.steps[0]!.mkdir, "/w/$(reboot)/`id`/it's");
  });
});
