import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../../test/scratch.js';
import { parseCapture, type Capture } from '../capture/capture-file.js';
import type { Program } from './program.js';
import { serialiseProgram } from './wire.js';

export interface TreeRun {
  status: string[];
  outsideStatus: string[];
  err: string;
  capture?: Capture;
  /** A second capture, taken right after the first: what the first one's probes (locks) left behind. */
  recapture?: Capture;
  /** comm of every task of the tree, by pid. */
  comms: string[];
  files: Buffer[];
  /** `UID:GID` of each file asked for, as this host's user namespace sees it. */
  owners: string[];
}

/**
 * The part of labctl's setup that the helper replaces, run here: a tmpfs
 * as the scenario root (with the host's /usr bound in, for the final
 * `sleep`), the outside steps if any, then `run-tree`; once every task
 * holds, the helper's own capture of the tree and the files asked for.
 */
const DRIVER = String.raw`set -eu
H=$1 PLAN=$2 OUT=$3 ROOT=$4
# Only stdio reaches the tree, as from labctl (fd 255 is bash's own, reading this script).
for fd in $(ls /proc/$$/fd); do
  if [ "$fd" -gt 2 ] && [ "$fd" != 255 ]; then eval "exec $fd>&-"; fi
done
mount -t tmpfs mountlab-test-root "$ROOT"
mkdir -p "$ROOT/usr" "$ROOT/proc"
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$ROOT/$d"; fi
done
mount --rbind /usr "$ROOT/usr"
if [ -s "$OUT/outside" ]; then
  "$H" run-outside "$ROOT" "$PLAN" 9>"$OUT/outside-status" 2>"$OUT/outside-err" </dev/null || exit 0
fi
# Where the guest has it, the helper is inside the scenario root too (a plan that maps files runs it from there).
cp "$H" "$ROOT/mountlab-helper"
MOUNTLAB_HELPER_IN_ROOT=/mountlab-helper "$H" run-tree "$ROOT" "$PLAN" 9>"$OUT/status" 2>"$OUT/err" </dev/null &
for _ in $(seq 400); do
  grep -q '^ready$\|^failed' "$OUT/status" && break
  sleep 0.025
done
grep -q '^ready$' "$OUT/status" || exit 0
init=$(sed -n 's/^init //p' "$OUT/status")
tree() { echo "$1"; for t in /proc/"$1"/task/*; do for k in $(cat "$t/children"); do tree "$k"; done; done; }
for _ in $(seq 400); do
  held=1
  # A task keeping mappings holds as the helper, its lab fds (8: the sync directory) closed.
  for p in $(tree "$init"); do
    [ "$(cat /proc/$p/comm)" = sleep ] || [ ! -e /proc/$p/fd/8 ] || held=0
  done
  [ $held = 1 ] && break
  sleep 0.025
done
for p in $(tree "$init"); do cat "/proc/$p/comm" >> "$OUT/comms"; done
"$H" capture "$init" > "$OUT/capture"
"$H" capture "$init" > "$OUT/recapture"
i=0
while IFS= read -r f; do
  cat "/proc/$init/root$f" > "$OUT/file.$i"
  stat -c '%u:%g' "/proc/$init/root$f" >> "$OUT/owners"
  i=$((i + 1))
done < "$OUT/want"
`;

export function runTree(helper: string, p: Program, want: string[] = []): TreeRun {
  const dir = scratchDir('tree');
  const out = join(dir, 'out');
  const root = join(dir, 'root');
  mkdirSync(out);
  mkdirSync(root);
  writeFileSync(join(dir, 'plan'), serialiseProgram(p));
  writeFileSync(join(dir, 'driver.sh'), DRIVER);
  writeFileSync(join(out, 'want'), want.map((w) => `${w}\n`).join(''));
  writeFileSync(join(out, 'outside'), p.outside.length ? 'yes' : '');
  const r = spawnSync(
    'unshare',
    [
      '-m',
      '-p',
      '--fork',
      '--mount-proc',
      '--propagation',
      'private',
      'bash',
      join(dir, 'driver.sh'),
      helper,
      join(dir, 'plan'),
      out,
      root,
    ],
    { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  assert.equal(
    r.status,
    0,
    `the namespace did not run (unshare -m -p must work here): ${r.error?.message ?? ''}\n${r.stderr}`,
  );
  const read = (f: string) => (existsSync(join(out, f)) ? readFileSync(join(out, f), 'latin1') : '');
  const captured = read('capture');
  const recaptured = read('recapture');
  return {
    status: read('status').split('\n').filter(Boolean),
    outsideStatus: read('outside-status').split('\n').filter(Boolean),
    err: read('err') + read('outside-err'),
    ...(captured ? { capture: parseCapture(captured, 'capture') } : {}),
    ...(recaptured ? { recapture: parseCapture(recaptured, 'recapture') } : {}),
    comms: read('comms').split('\n').filter(Boolean),
    files: want.map((_w, i) =>
      existsSync(join(out, `file.${i}`)) ? readFileSync(join(out, `file.${i}`)) : Buffer.alloc(0),
    ),
    owners: read('owners').split('\n').filter(Boolean),
  };
}
