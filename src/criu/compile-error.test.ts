import { strict as assert } from 'node:assert';
import { firstCompilerError } from './compile-error.js';

describe('first compiler error of a make log', () => {
  it("gives gcc's first error with its source line and caret", () => {
    const log = [
      '  CC       criu/mount.o',
      "criu/mount.c: In function 'mnt_is_dir':",
      "criu/mount.c:120:9: error: 'oops' undeclared (first use in this function)",
      '  120 |         oops;',
      '      |         ^~~~',
      "criu/mount.c:121:9: error: expected ';' before 'return'",
      'make[2]: *** [scripts/nmk/scripts/build.mk:111: criu/mount.o] Error 1',
    ].join('\n');
    assert.equal(
      firstCompilerError(log),
      "criu/mount.c:120:9: error: 'oops' undeclared (first use in this function)\n" +
        '  120 |         oops;\n' +
        '      |         ^~~~',
    );
  });

  it('finds a missing header (fatal error) and a link error', () => {
    assert.equal(
      firstCompilerError('x\ncriu/a.c:3:10: fatal error: nope.h: No such file or directory\n'),
      'criu/a.c:3:10: fatal error: nope.h: No such file or directory',
    );
    assert.equal(
      firstCompilerError(
        "  LINK criu/criu\n/usr/bin/ld: criu/a.o: in function `f':\n" +
          "a.c:(.text+0x5): undefined reference to `g'\ncollect2: error: ld returned 1 exit status\n",
      ),
      "a.c:(.text+0x5): undefined reference to `g'",
    );
  });

  it("falls back to make's own error, and says nothing for a clean log", () => {
    assert.equal(
      firstCompilerError("make: *** No rule to make target 'criu'.  Stop.\n"),
      "make: *** No rule to make target 'criu'.  Stop.",
    );
    assert.equal(firstCompilerError('  CC criu/a.o\n  LINK criu/criu\n'), undefined);
  });
});
