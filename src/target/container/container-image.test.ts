import { strict as assert } from 'node:assert';
import { containerImageTag, importChanges, KEEPALIVE, specialModes } from './container-image.js';

describe('container image', () => {
  it('is tagged by the rootfs image id', () => {
    assert.equal(containerImageTag({ id: 'trixie-0123456789ab' }), 'mountlab-guest:trixie-0123456789ab');
  });

  it('keeps the container alive with a plain sleep (the VM init is for VMs) and labels the image', () => {
    assert.deepEqual(KEEPALIVE, ['sleep', 'infinity']);
    assert.deepEqual(importChanges({ id: 'trixie-x' }), ['CMD ["sleep","infinity"]', 'LABEL mountlab.image=trixie-x']);
  });

  it('finds the setuid, setgid and sticky bits that rdump drops, from debugfs ls -p', () => {
    const out = [
      'debugfs: ls -p "/"',
      '/2/040755/0/0/.//',
      '/2/040755/0/0/..//',
      '/12/041777/0/0/tmp//',
      '/13/040755/0/0/usr//',
      'debugfs: ls -p "/usr/bin"',
      '/329/040755/0/0/.//',
      '/352/104755/0/0/chfn/70888/',
      '/360/102755/0/42/chage/80000/',
      '/363/100755/0/0/comm/47560/',
      '/364/120777/0/0/weird link/7/',
      '/365/104755/0/0/name with space/1/',
    ].join('\n');
    assert.deepEqual(specialModes(out), [
      { path: '/tmp', mode: 0o41777 },
      { path: '/usr/bin/chfn', mode: 0o104755 },
      { path: '/usr/bin/chage', mode: 0o102755 },
      { path: '/usr/bin/name with space', mode: 0o104755 },
    ]);
  });

  it('ignores lines before the first listing and debugfs errors', () => {
    assert.deepEqual(specialModes('/1/104755/0/0/x/1/\nls: File not found by ext2_lookup\n'), []);
  });
});
