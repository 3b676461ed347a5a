import { strict as assert } from 'node:assert';
import { distinctLabels, vmCellId } from './cells.js';

describe('vm cell ids', () => {
  it("name the kernel and the criu build's label", () => {
    assert.equal(vmCellId('debian-6.12', '4.1.1'), 'vm-debian-6.12-criu-4.1.1');
    assert.equal(vmCellId('debian-6.12', 'v4.2-1-gc88aa2a9e'), 'vm-debian-6.12-criu-v4.2-1-gc88aa2a9e');
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
