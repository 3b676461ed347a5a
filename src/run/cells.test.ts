import { strict as assert } from 'node:assert';
import { distinctLabels, parseVmCellId, planVmCellById, vmCellId } from './cells.js';
import { BadInputError } from '../errors.js';

describe('vm cell ids', () => {
  it("name the kernel and the criu build's label", () => {
    assert.equal(vmCellId('debian-6.12', '4.1.1'), 'vm-debian-6.12-criu-4.1.1');
    assert.equal(vmCellId('debian-6.12', 'v4.2-1-gc88aa2a9e'), 'vm-debian-6.12-criu-v4.2-1-gc88aa2a9e');
  });

  it('read back into the kernel and the criu (mountlab reduce --cell); anything else is bad input', async () => {
    for (const [k, c] of [
      ['debian-6.12', '4.1.1'],
      ['debian-6.12-bpo', 'v4.2-1-gc88aa2a9e'],
    ] as const) {
      assert.deepEqual(parseVmCellId(vmCellId(k, c)), { kernel: k, criu: c });
    }
    assert.equal(parseVmCellId('container-criu-4.1.1'), undefined);
    const signal = new AbortController().signal;
    await assert.rejects(
      planVmCellById('container-criu-4.1.1', { accel: 'tcg', runDir: '/nonexistent', signal, log: () => {} }),
      (e: unknown) =>
        e instanceof BadInputError && /--cell:1:1: 'container-criu-4.1.1' is no vm cell id/.test(e.message),
    );
  });

  it('tell apart two builds that describe alike, and leave the rest alone', () => {
    assert.deepEqual(
      distinctLabels(
        ['4.1.1', 'v4.2-gabc-dirty', 'v4.2-gabc-dirty'],
        ['trixie-1', 'v4.2-gabc-dirty-111111aaaaaa', 'v4.2-gabc-dirty-222222bbbbbb'],
      ),
      ['4.1.1', 'v4.2-gabc-dirty-aaaaaa', 'v4.2-gabc-dirty-bbbbbb'],
    );
  });
});
