import { strict as assert } from 'node:assert';
import { elfProblems, parseReadelf, type RootfsLibs } from './elf-check.js';

const READELF = `ELF Header:
  Class:                             ELF64
  Machine:                           Advanced Micro Devices X86-64
Program Headers:
  INTERP         0x000318 0x0000000000000318 0x0000000000000318 0x00001c 0x00001c R   0x1
      [Requesting program interpreter: /lib64/ld-linux-x86-64.so.2]
Dynamic section at offset 0x1b0 contains 30 entries:
 0x0000000000000001 (NEEDED)             Shared library: [libprotobuf-c.so.1]
 0x0000000000000001 (NEEDED)             Shared library: [libnl-3.so.200]
 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]
Version needs section '.gnu.version_r' contains 1 entry:
  0x0010:   Name: GLIBC_2.4  Flags: none  Version: 3
  0x0020:   Name: GLIBC_2.38  Flags: none  Version: 2
  0x0030:   Name: GLIBC_2.14  Flags: none  Version: 4
`;

const trixie: RootfsLibs = {
  exists: (p) => p === '/lib64/ld-linux-x86-64.so.2',
  libraries: new Set(['libprotobuf-c.so.1', 'libnl-3.so.200', 'libc.so.6']),
  glibc: '2.41-12',
};

describe('prebuilt criu: will it run in the guest', () => {
  it('reads the interpreter, the needed libraries and the newest glibc version', () => {
    assert.deepEqual(parseReadelf(READELF), {
      interpreter: '/lib64/ld-linux-x86-64.so.2',
      needed: ['libprotobuf-c.so.1', 'libnl-3.so.200', 'libc.so.6'],
      glibc: '2.38',
      machine: 'Advanced Micro Devices X86-64',
    });
  });

  it('accepts a binary whose every need the rootfs meets, and a static one', () => {
    assert.deepEqual(elfProblems(parseReadelf(READELF), trixie), []);
    assert.deepEqual(elfProblems({ needed: [], machine: 'Advanced Micro Devices X86-64' }, trixie), []);
  });

  it('names each unmet need', () => {
    const bookworm: RootfsLibs = { exists: () => false, libraries: new Set(['libc.so.6']), glibc: '2.36-9' };
    assert.deepEqual(elfProblems(parseReadelf(READELF), bookworm), [
      'its ELF interpreter /lib64/ld-linux-x86-64.so.2 is not in the guest',
      'the guest lacks the libraries libprotobuf-c.so.1, libnl-3.so.200',
      'it needs glibc 2.38, the guest has 2.36-9',
    ]);
    assert.deepEqual(elfProblems({ needed: [], machine: 'AArch64' }, trixie), [
      'it is built for AArch64, the guest is x86-64',
    ]);
  });
});
