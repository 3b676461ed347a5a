import type { Scenario } from './scenario.generated.js';
import type { SemanticProblem } from './semantics.js';

/**
 * criu options a scenario may not give, by long name, and why: the lab sets them itself, or they would
 * send images or logs where the lab does not look, or run a command. labctl's own options (-D, -o, -t,
 * --root, --pidfile, -d) come first on criu's command line; a second one would win silently.
 */
export const REFUSED_CRIU_OPTIONS: ReadonlyMap<string, string> = new Map([
  ['images-dir', 'the lab keeps the images in its own directory (labctl gives -D)'],
  ['work-dir', "criu's log and images would go where the lab does not look"],
  ['prev-images-dir', 'the lab dumps once, into its own directory'],
  ['page-server', 'the pages would go over the network, not into the lab’s image directory'],
  ['lazy-pages', 'the pages would stay behind for a lazy-pages daemon the lab does not run'],
  ['log-file', "the lab reads criu's log from its own file (labctl gives -o)"],
  ['root', 'the lab restores into the scenario root it made (labctl gives --root)'],
  ['pidfile', 'the lab reads the restored pid from its own file (labctl gives --pidfile)'],
  ['restore-detached', 'the lab always restores detached (labctl gives -d)'],
  ['tree', "the lab names the tree's pid (labctl gives -t)"],
  ['mntns-compat-mode', 'use engine.mount-engine: compat (or both), which the verdicts and reports follow'],
  ['action-script', 'it would run a command in the guest'],
  ['exec-cmd', 'it would run a command in the guest'],
]);

/**
 * The long option an item names, when it refuses it: getopt_long takes any unambiguous abbreviation
 * (`--log-f` is --log-file) and criu reads `--no-NAME` for many options, so both are refused too.
 */
export function refusedOption(name: string): { option: string; why: string } | undefined {
  const bare = name.startsWith('no-') && !REFUSED_CRIU_OPTIONS.has(name) ? name.slice(3) : name;
  for (const [option, why] of REFUSED_CRIU_OPTIONS) {
    if (option === bare || (bare.length > 0 && option.startsWith(bare))) return { option, why };
  }
  return undefined;
}

/**
 * What the schema leaves to the whole list of extra criu options: refused options (by name, with
 * `=value` or a value item after them), and a value item with no `--name` just before it to take it.
 */
export function criuArgProblems(engine: Scenario['engine']): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  for (const key of ['dump-args', 'restore-args'] as const) {
    const args = engine?.[key] ?? [];
    args.forEach((arg, i) => {
      const at = `/engine/${key}/${i}`;
      if (arg.startsWith('--')) {
        const name = arg.slice(2).split('=')[0]!;
        const refused = refusedOption(name);
        if (refused) {
          const which = refused.option === name ? `--${name}` : `--${name} (criu reads it as --${refused.option})`;
          problems.push({ path: at, message: `${which} is refused here: ${refused.why}` });
        }
        return;
      }
      const prev = args[i - 1];
      if (prev === undefined || !prev.startsWith('--') || prev.includes('=')) {
        problems.push({
          path: at,
          message:
            `${JSON.stringify(arg)} does not start with "--" and no bare --name comes just before it ` +
            'to take it as its value',
          suggestion: prev?.startsWith('--') ? `write ${prev.split('=')[0]}=${arg}` : 'write --name=value',
        });
      }
    });
  }
  return problems;
}

type External = NonNullable<NonNullable<Scenario['engine']>['external']>[number];

/** The kinds of external entry; each entry is exactly one. */
const EXTERNAL_KINDS = ['path', 'auto', 'device'] as const;

/** An external entry is one mount, auto-detection or one device, with the fields that kind takes. */
export function externalProblems(engine: Scenario['engine']): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  (engine?.external ?? []).forEach((x: External, i) => {
    const at = `/engine/external/${i}`;
    const kinds = EXTERNAL_KINDS.filter((k) => x[k] !== undefined);
    if (kinds.length === 0) {
      problems.push({
        path: at,
        message: "missing required field 'path' (or 'auto' or 'device')",
        suggestion:
          'a mount: `{path: /ext, source: /host/ext}`; criu finds them: `{auto: true}`; ' +
          'a device: `{device: "7/0", key: loop, source: /dev/loop0}`',
      });
      return;
    }
    if (kinds.length > 1) {
      problems.push({
        path: `${at}/${kinds[1]}`,
        message: `${kinds.map((k) => `'${k}'`).join(' and ')} both given; an external entry is one of them`,
        suggestion: 'split it into one entry each',
      });
      return;
    }
    const kind = kinds[0]!;
    const allowed: Record<(typeof EXTERNAL_KINDS)[number], string[]> = {
      path: ['path', 'key', 'source'],
      auto: ['auto', 'flags'],
      device: ['device', 'key', 'source'],
    };
    for (const field of Object.keys(x)) {
      if (!allowed[kind].includes(field))
        problems.push({ path: `${at}/${field}`, message: `'${field}' does not go with '${kind}'` });
    }
    if (kind === 'device' && x.key === undefined)
      problems.push({ path: at, message: "a device entry needs 'key': criu's name for the device on both sides" });
    if (kind === 'device' && x.source === undefined)
      problems.push({
        path: at,
        message: "a device entry needs 'source': the device node criu restore mounts it from",
        suggestion: 'the loop device under an ext4 image: `source: /dev/loop0`',
      });
  });
  return problems;
}
