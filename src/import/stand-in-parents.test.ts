import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { thrown } from '../../test/thrown.js';
import { importText } from './import-command.js';
import { parsePaste } from './parse-paste.js';
import { addStandInParents } from './stand-in-parents.js';

const M = (id: number, parent: number, mp: string) => `${id} ${parent} 0:${id} / ${mp} rw - tmpfs t rw`;

describe('import: stand-in-parents', () => {
  it('a missing parent that a mount within another needs is a tmpfs on the deepest mount holding its place', () => {
    const p = addStandInParents(parsePaste([M(18, 63, '/sys'), M(26, 25, '/sys/fs/cgroup/unified')].join('\n'), 'f'));
    const s = p.tasks[0]!.mounts.find((m) => m.mountId === 25)!;
    assert.deepEqual([s.parentId, s.mountPoint, s.fsType], [18, '/sys/fs/cgroup', 'tmpfs']);
    assert.deepEqual(p.standInParents, [25]);
  });

  it('missing parents that nothing needs stay roots; the paste is unchanged', () => {
    const paste = parsePaste([M(558, 24, '/run/user/48'), M(588, 24, '/run/user/5000')].join('\n'), 'f');
    assert.equal(addStandInParents(paste), paste);
  });

  it('two stand-ins on one place stack; two roots on one mountpoint are still refused', () => {
    const text = [M(18, 63, '/sys'), M(26, 25, '/sys/fs/a'), M(27, 24, '/sys/fs/b')].join('\n');
    const { plan } = importText(text, 'f', {});
    const mounts = plan.expected.tasks[0]!.mounts;
    assert.deepEqual(
      mounts.filter((m) => m.mountId === 24 || m.mountId === 25).map((m) => [m.mountId, m.parentId, m.mountPoint]),
      [
        [24, 18, '/sys/fs'],
        [25, 24, '/sys/fs'],
      ],
    );
    const e = thrown(() => importText([M(1, 0, '/a'), M(2, 7, '/a')].join('\n'), 'f', {}), BadInputError);
    assert.match(e.message, /^f:\d:1: mount \d and mount \d \(line \d\) are both on "\/a" and neither.s parent is in/);
  });
});
