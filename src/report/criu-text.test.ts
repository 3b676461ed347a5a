import { strict as assert } from 'node:assert';
import { criuOriginText, criuText } from './criu-text.js';

const reverted = {
  criu: '4.2',
  criuGitId: 'v4.2-1-gc88aa2a9e',
  criuBuild: {
    kind: 'git' as const,
    path: '/tmp/criu-v4.2-reverted',
    commit: 'c88aa2a9ebe5c36555d51d57ee057a716726e2af',
    describe: 'v4.2-1-gc88aa2a9e',
    dirty: false,
    build: 'criu-v4.2-reverted-e0cdc2ab7bcc',
  },
};

describe("a cell's criu in the reports", () => {
  it('names a build by commit in the short form, and leaves a Debian criu as its version', () => {
    assert.equal(criuText(reverted), '4.2 (git c88aa2a9ebe5, v4.2-1-gc88aa2a9e)');
    assert.equal(criuText({ criu: '4.1.1' }), '4.1.1');
    const tarball = { kind: 'tarball' as const, path: '/t', describe: '4.2.1', build: 'criu-4.2.1-82e2e68' };
    assert.equal(criuText({ criu: '4.2.1', criuBuild: tarball }), '4.2.1 (tarball 4.2.1, criu-4.2.1-82e2e68)');
  });

  it("gives the run's reports the path, the whole commit, clean or dirty, and what the guest said", () => {
    assert.equal(
      criuOriginText(reverted),
      'git checkout /tmp/criu-v4.2-reverted at c88aa2a9ebe5c36555d51d57ee057a716726e2af (v4.2-1-gc88aa2a9e), clean; ' +
        'build criu-v4.2-reverted-e0cdc2ab7bcc; the guest reports criu 4.2, GitID v4.2-1-gc88aa2a9e',
    );
    assert.equal(criuOriginText({ criu: '4.1.1' }), undefined);
  });
});
