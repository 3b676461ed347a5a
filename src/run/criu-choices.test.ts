import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { thrown } from '../../test/thrown.js';
import { BadInputError } from '../errors.js';
import { expandHome, parseCriuChoices } from './criu-choices.js';

describe('--criu list: names, versions, trees and binaries', () => {
  after(removeScratch);

  it('mixes Debian builds with a source tree and a binary, in order', () => {
    const home = scratchDir('home');
    mkdirSync(join(home, 'src', 'criu'), { recursive: true });
    writeFileSync(join(home, 'criu-bin'), '');
    assert.deepEqual(parseCriuChoices(`trixie, ~/src/criu,3.17.1,${home}/criu-bin`, home), [
      { kind: 'debian', name: 'trixie' },
      { kind: 'source', path: join(home, 'src', 'criu') },
      { kind: 'debian', name: 'bookworm' },
      { kind: 'binary', path: join(home, 'criu-bin') },
    ]);
  });

  it('refuses unknown names, missing paths, duplicates and an empty list', () => {
    const home = scratchDir('home2');
    mkdirSync(join(home, 'criu'));
    assert.match(thrown(() => parseCriuChoices('jessie', home), BadInputError).message, /unknown criu 'jessie'/);
    assert.match(
      thrown(() => parseCriuChoices('~/nope', home), BadInputError).message,
      /no such file or directory: ~\/nope/,
    );
    assert.match(thrown(() => parseCriuChoices(`~/criu,${home}/criu/`, home), BadInputError).message, /listed twice/);
    assert.match(thrown(() => parseCriuChoices('trixie,4.1.1', home), BadInputError).message, /listed twice/);
    assert.match(thrown(() => parseCriuChoices(' , ', home), BadInputError).message, /no criu given/);
  });

  it('expands ~ the way a shell would have', () => {
    assert.equal(expandHome('~/src', '/h'), '/h/src');
    assert.equal(expandHome('~', '/h'), '/h');
    assert.equal(expandHome('/abs/~x', '/h'), '/abs/~x');
  });
});
