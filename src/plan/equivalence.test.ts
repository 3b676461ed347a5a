import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { parseCapture } from '../capture/capture-file.js';
import { compareCaptures } from '../compare/compare.js';
import { assetPath } from '../paths.js';
import { loadScenarioFile } from '../scenario/load.js';
import { renderTreeScript } from './tree-script.js';
import { buildHelper } from '../../test/helper-build.js';
import { compileProgram } from './program.js';
import { serialiseProgram } from './wire.js';

/**
 * Equivalence first (issue 18): the same scenario built by the old bash
 * tree (this host's mount(8), bash, coreutils) and by the helper's
 * executor, each as labctl's setup makes it (an overlay of this host's
 * root with a throw-away upper layer, outside steps in a second bind of it,
 * the tree in new mount and pid namespaces), must capture equal as
 * topologies. Everything runs inside a private mount and pid namespace.
 * This host's util-linux may be older than the guests' 2.41; for these
 * scenarios both read options alike (see mount-options.ts). The full
 * corpus is for the VMs; here a few that cover every kind of step, and
 * the hostile names of the injection tests.
 */
const SCENARIOS = [
  'scenarios/binds/per-mount-flags.yaml',
  'scenarios/binds/superblock-ro.yaml',
  'scenarios/binds/move-subtree.yaml',
  'scenarios/files/cwd-under-overmount.yaml',
  'scenarios/files/tmpfs-content-links.yaml',
  'scenarios/flags/ro-root.yaml',
  'scenarios/namespaces/pivot-root-new-root.yaml',
  'scenarios/seed-000/nested-ipc-namespace.yaml',
  'scenarios/seed-001/sharing-tree-reverse-stacked-4.yaml',
  'scenarios/seed-002/external-master-auto.yaml',
  'scenarios/seed-002/proc-sys-ro-bind.yaml',
  'scenarios/seed-004/unlinked-relinked-file.yaml',
  'scenarios/unbindable/rbind-skips-unbindable.yaml',
  // Names and paths a shell would have read as code.
  'test/fixtures/scenarios-hostile-valid/metachar-names.yaml',
];

/** labctl's setup, for MODE old (tree.sh, outside.sh) or new (run-outside, run-tree); the capture once all hold. */
const DRIVER = String.raw`set -u
MODE=$1 H=$2 D=$3 W=$4
# The helper's tasks exec their hold with an environment of their own; bash's inherit this one, and with a
# UTF-8 locale their sleep maps the locale's files, which the capture lists (@map): the guest has none.
unset LANG LANGUAGE; export LC_ALL=C
for fd in $(ls /proc/$$/fd); do
  if [ "$fd" -gt 2 ] && [ "$fd" != 255 ]; then eval "exec $fd>&-"; fi
done
# The guest has the helper in its own root too: the old tree calls it before it pivots.
mount -t tmpfs bin /usr/local/bin && cp "$H" /usr/local/bin/mountlab-helper
mount -t tmpfs w "$W"
mkdir -p "$W/root" "$W/upper/usr/local/bin" "$W/work"
cp "$H" "$W/upper/usr/local/bin/mountlab-helper"
mount --make-private -t overlay -o "lowerdir=/,upperdir=$W/upper,workdir=$W/work,xino=on" mountlab-root "$W/root"
treeroot=$W/root
if [ -s "$D/outside.sh" ]; then
  mkdir -p "$W/host"
  mount --bind "$W/root" "$W/host"
  treeroot=$W/host
  mount -t proc proc "$W/host/proc"
  mount --rbind /sys "$W/host/sys"
  mount --rbind /dev "$W/host/dev"
  if [ "$MODE" = old ]; then
    chroot "$W/host" /bin/bash -c "$(cat "$D/outside.sh")" 7>/dev/null </dev/null >/dev/null 2>"$D/$MODE.err" || exit 0
  else
    "$H" run-outside "$W/host" "$D/plan" 9>/dev/null </dev/null 2>"$D/$MODE.err" || exit 0
  fi
  umount -l "$W/host/proc" "$W/host/sys" "$W/host/dev"
fi
if [ "$MODE" = old ]; then
  ML_ROOT="$treeroot" setsid unshare -m -p --fork --propagation unchanged \
    bash -c "$(cat "$D/tree.sh")" mountlab init 0 9>"$D/$MODE.status" </dev/null >/dev/null 2>>"$D/$MODE.err" &
else
  setsid "$H" run-tree "$treeroot" "$D/plan" 9>"$D/$MODE.status" </dev/null >/dev/null 2>>"$D/$MODE.err" &
fi
up=$!
for _ in $(seq 600); do
  grep -q '^ready$\|^failed' "$D/$MODE.status" && break
  sleep 0.02
done
grep -q '^ready$' "$D/$MODE.status" || exit 0
pid=
for _ in $(seq 100); do
  read -r pid < "/proc/$up/task/$up/children" || true
  [ -n "$pid" ] && break
  sleep 0.02
done
tree() { echo "$1"; for t in /proc/"$1"/task/*; do for k in $(cat "$t/children"); do tree "$k"; done; done; }
for _ in $(seq 500); do
  held=1
  for p in $(tree "$pid"); do [ "$(cat "/proc/$p/comm")" = sleep ] || held=0; done
  [ "$held" = 1 ] && break
  sleep 0.02
done
"$H" capture "$pid" > "$D/$MODE.capture"
`;

describe('@e2e the executor builds what the bash tree builds (this host, private namespaces)', function () {
  this.timeout(300_000);
  let helper = '';
  let w = '';
  before(() => {
    helper = buildHelper(scratchDir('helper'));
    // One work path for both builds: the overlay's options name it.
    w = scratchDir('equivalence-w');
  });
  after(removeScratch);

  for (const file of SCENARIOS) {
    it(file, async () => {
      const loaded = await loadScenarioFile(assetPath(file));
      const dir = scratchDir('equivalence');
      const old = renderTreeScript(loaded.scenario, { id: 'eq', file: loaded.file });
      writeFileSync(join(dir, 'tree.sh'), old.tree);
      writeFileSync(join(dir, 'outside.sh'), old.outside);
      writeFileSync(join(dir, 'plan'), serialiseProgram(compileProgram(loaded.scenario, 'eq')));
      writeFileSync(join(dir, 'driver.sh'), DRIVER);
      const captures = ['old', 'new'].map((mode) => {
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
            mode,
            helper,
            dir,
            w,
          ],
          { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        assert.equal(r.status, 0, `unshare -m -p must work here: ${r.error?.message ?? ''}\n${r.stderr}`);
        const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'latin1') : '');
        const capture = read(`${mode}.capture`);
        assert.ok(capture, `the ${mode} tree did not get ready: ${read(`${mode}.status`)}\n${read(`${mode}.err`)}`);
        return parseCapture(capture, `${mode}.capture`);
      });
      const c = compareCaptures(captures[0]!, captures[1]!);
      assert.ok(c.equivalent, c.differences.map((d) => d.sentence).join('\n'));
    });
  }
});
