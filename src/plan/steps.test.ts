import { strict as assert } from 'node:assert';
import type { Step } from '../scenario/scenario.generated.js';
import { compileStep } from './steps.js';

const CASES: [Step, string][] = [
  [{ mkdir: ['/w', '/a b'] }, "mkdir -p -- /w '/a b'"],
  [{ write: { path: '/w/f', content: "it's\n" } }, "printf '%s' 'it'\\''s\n' > /w/f"],
  [{ symlink: { target: '../x', path: '/w/l' } }, 'ln -s -- ../x /w/l'],
  [{ link: { from: '/w/a', to: '/w/b' } }, 'ln -- /w/a /w/b'],
  [{ rename: { from: '/w/a', to: '/w/c' } }, 'mv -T -- /w/a /w/c'],
  [{ unlink: '/w/a' }, 'rm -f -- /w/a'],
  [{ rmdir: ['/w/d'] }, 'rmdir -- /w/d'],
  [{ chdir: '/w' }, 'cd -- /w'],
  [{ mount: { fstype: 'tmpfs', target: '/w' } }, 'mount -t tmpfs -- tmpfs /w'],
  [
    { mount: { fstype: 'tmpfs', source: 'my src', target: '/w', options: 'size=1m,mode=700' } },
    "mount -t tmpfs -o size=1m,mode=700 -- 'my src' /w",
  ],
  [{ bind: { source: '/w', target: '/a' } }, 'mount --bind -- /w /a'],
  [{ rbind: { source: '/w', target: '/a' } }, 'mount --rbind -- /w /a'],
  [{ move: { from: '/a', to: '/b' } }, 'mount --move -- /a /b'],
  [{ umount: '/a' }, 'umount -- /a'],
  [{ umount: { path: '/a', lazy: true } }, 'umount -l -- /a'],
  [{ remount: { path: '/a', options: 'ro,nosuid' } }, 'mount -o remount,bind,ro,nosuid -- /a'],
  [{ remount: { path: '/a', options: 'ro', super: true } }, 'mount -o remount,ro -- /a'],
  [{ 'make-shared': '/w' }, 'mount --make-shared -- /w'],
  [{ 'make-slave': { path: '/w', recursive: true } }, 'mount --make-rslave -- /w'],
  [{ 'make-private': '/w' }, 'mount --make-private -- /w'],
  [{ 'make-unbindable': { path: '/w' } }, 'mount --make-unbindable -- /w'],
  [{ 'set-group': { from: '/a', to: '/b' } }, '/usr/local/bin/mountlab-helper set-group /a /b'],
  [
    { 'open-tree': { source: '/a', target: '/b', recursive: true } },
    '/usr/local/bin/mountlab-helper open-tree /a /b -r',
  ],
  [{ mkdir: '/$(reboot)/`id`' }, "mkdir -p -- '/$(reboot)/`id`'"],
];

describe('step compiler', () => {
  for (const [step, shell] of CASES) {
    it(`${JSON.stringify(step)} -> ${shell}`, () => {
      const c = compileStep(step);
      assert.equal(c.kind, 'shell');
      assert.equal(c.kind === 'shell' && c.shell, shell);
    });
  }
});
