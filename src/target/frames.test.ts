import { strict as assert } from 'node:assert';
import { parseFrames } from './frames.js';

const frame = (call: string, code: number, ms: number, parts: [string, string][] = []) =>
  `{"call":"${call}","code":${code},"ms":${ms}}\n` +
  parts.map(([n, b]) => `{"attach":"${n}","bytes":${Buffer.byteLength(b, 'latin1')}}\n${b}\n`).join('');

describe('frames (labctl build and engine)', () => {
  it('reads calls with their attachments, any bytes in them, newlines and record-like lines included', () => {
    const nasty = '{"call":"x","code":0,"ms":0}\n\u00e9\u00ff\n\n';
    const text = `mountlab-frames 1\n${frame('setup', 0, 80, [['stdout', 'pid=7\n']])}${frame('capture', 0, 20, [
      ['stdout', nasty],
      ['stderr', ''],
    ])}`;
    const frames = parseFrames(text);
    assert.deepEqual(
      frames.map((f) => [f.call, f.code, f.ms, [...f.attachments]]),
      [
        ['setup', 0, 80, [['stdout', 'pid=7\n']]],
        [
          'capture',
          0,
          20,
          [
            ['stdout', nasty],
            ['stderr', ''],
          ],
        ],
      ],
    );
  });

  it('refuses another version, a cut attachment and records of no known kind', () => {
    assert.throws(() => parseFrames('mountlab-frames 2\n'), /not mountlab-frames version 1/);
    assert.throws(() => parseFrames('pid=7\n'), /the first line is "pid=7"/);
    assert.throws(
      () => parseFrames('mountlab-frames 1\n{"call":"dump","code":0,"ms":1}\n{"attach":"log","bytes":10}\nabc\n'),
      /attachment log of dump is cut short/,
    );
    assert.throws(() => parseFrames('mountlab-frames 1\n{"attach":"log","bytes":0}\n\n'), /before any call/);
    assert.throws(() => parseFrames('mountlab-frames 1\n{"what":1}\n'), /no known kind/);
    assert.throws(() => parseFrames('mountlab-frames 1\nnot json\n'), /not a JSON record/);
    assert.deepEqual(parseFrames('mountlab-frames 1\n'), []);
  });
});
