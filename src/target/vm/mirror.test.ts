import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { removeScratch, scratchDir } from '../../../test/scratch.js';
import { join } from 'node:path';
import { mirrorFromApt } from './mirror.js';
import { PrerequisiteError } from '../../errors.js';

function aptDir(files: Record<string, string>): string {
  const d = scratchDir('apt');
  mkdirSync(join(d, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

describe('mirror discovery', () => {
  after(removeScratch);

  it('reads the main archive from deb822 sources, skipping security', () => {
    const d = aptDir({
      'sources.list.d/debian.sources': [
        'Types: deb',
        'URIs: http://sec.example/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        '',
        'Types: deb',
        'URIs: http://mirror.example/debian/',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        '',
      ].join('\n'),
    });
    assert.equal(mirrorFromApt(d), 'http://mirror.example/debian');
  });

  it('reads one-line sources.list', () => {
    const d = aptDir({ 'sources.list': '# comment\ndeb [arch=amd64] http://m.example/debian bookworm main\n' });
    assert.equal(mirrorFromApt(d), 'http://m.example/debian');
  });

  it('says what to do when there is none', () => {
    const d = aptDir({ 'sources.list': 'deb http://m.example/ubuntu jammy main\n' });
    assert.throws(
      () => mirrorFromApt(d),
      (e: unknown) => e instanceof PrerequisiteError && /--mirror/.test(e.hint ?? ''),
    );
  });
});
