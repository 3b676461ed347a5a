import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { BadInputError } from '../errors.js';
import { WIRE_MAGIC } from '../plan/wire.js';
import { planCommand } from './plan-command.js';

const SCENARIO = `name: p
description: d
steps:
  - mkdir: [/w, /a]
  - mount: { fstype: tmpfs, source: w, target: /w }
  - make-shared: /w
  - bind: { source: /w, target: /a }
engine:
  mount-engine: both
  dump-args: ['--external', 'mnt[]:s']
expect: identical
`;

describe('mountlab plan', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mountlab-plan-test-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function plan(text: string, wire = false): Promise<string> {
    const file = join(dir, 'p.yaml');
    writeFileSync(file, text);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    assert.equal(await planCommand([file], { wire }, out), 0);
    return Buffer.concat(chunks).toString();
  }

  it('prints each step in words with what it does, then the criu command lines, once per mount engine', async () => {
    const text = await plan(SCENARIO);
    assert.match(text, /^== p\[v2\] \(/m);
    assert.match(text, /^== p\[compat\] \(/m);
    assert.match(text, /^ {2}step 4: bind \/w -> \/a\n {4}bind \/w on \/a$/m);
    // A bracketed option is one argv element, shown quoted.
    assert.match(text, /criu dump -t <init pid> -D <images> -o dump\.log -v4 --external "mnt\[\]:s"$/m);
    const restores = text.match(/^ +criu restore .*$/gm) ?? [];
    assert.equal(restores.length, 2);
    assert.doesNotMatch(restores[0]!, /--mntns-compat-mode/);
    assert.match(restores[1]!, /--mntns-compat-mode$/);
  });

  it('--wire prints the program as the helper reads it', async () => {
    const text = await plan(SCENARIO, true);
    assert.equal(text.split(`${WIRE_MAGIC} `).length - 1, 2, text);
    assert.doesNotMatch(text, /criu/);
  });

  it('refuses a bad scenario at file:line:col and prints nothing', async () => {
    await assert.rejects(
      plan(SCENARIO.replace('make-shared: /w', 'make-shard: /w')),
      (e: unknown) => e instanceof BadInputError && /p\.yaml:6:\d+/.test(e.message),
    );
  });
});
