import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { closest } from './suggest.js';
import { assetPath } from '../paths.js';

/** A schema violation located by its JSON-pointer path, before positions are known. */
export interface SchemaProblem {
  /** JSON pointer into the document, e.g. `/steps/2/make-slave`. */
  path: string;
  /** When the problem is a key (unknown property), the key itself; positions then point at the key. */
  key?: string;
  message: string;
  suggestion?: string;
}

export const SCENARIO_SCHEMA_PATH = assetPath('src', 'scenario', 'scenario.schema.json');

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(SCENARIO_SCHEMA_PATH, 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    compiled = ajv.compile(schema);
  }
  return compiled;
}

export function schemaValidate(doc: unknown): SchemaProblem[] {
  const validate = validator();
  if (validate(doc)) return [];
  return simplify(validate.errors ?? []);
}

/**
 * Ajv reports every failed branch of a oneOf; a user wants the one that
 * explains the mistake. The rule: a type or enum error is noise when some
 * other error sits at the same place or deeper (that branch matched the
 * value's shape and got further). Type errors that remain at one place are
 * merged into a single "expected X or Y". A missing field is noise beside an
 * unknown one at the same place: the typo explains both.
 */
function simplify(errors: ErrorObject[]): SchemaProblem[] {
  const precise = withoutWrongBranches(errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf'));
  const isShape = (e: ErrorObject) => e.keyword === 'type' || e.keyword === 'enum';
  // "Some error at P or deeper" is asked of every error: sets of every
  // error path's ancestors answer it in one lookup. (Comparing each error
  // with every other made a list of 30,000 wrong steps take 15 s.)
  const withAncestors = (paths: Iterable<string>): Set<string> => {
    const out = new Set<string>();
    for (let p of paths) {
      for (;;) {
        out.add(p);
        if (p === '') break;
        p = p.slice(0, Math.max(0, p.lastIndexOf('/')));
      }
    }
    return out;
  };
  // A key that some oneOf branch knew (it reported errors inside the key's
  // value) is not unknown: that branch's errors explain the mistake.
  const entered = withAncestors(precise.map((e) => e.instancePath));
  const deeperThanShape = withAncestors(precise.filter((o) => !isShape(o)).map((o) => o.instancePath));
  const unknownKeyAt = new Set(precise.filter((o) => o.keyword === 'additionalProperties').map((o) => o.instancePath));
  const kept = precise.filter((e) => {
    if (e.keyword === 'additionalProperties') {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const inner = `${e.instancePath}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (entered.has(inner)) return false;
    }
    if (isShape(e)) return !deeperThanShape.has(e.instancePath);
    if (e.keyword === 'required') return !unknownKeyAt.has(e.instancePath);
    return true;
  });
  const problems: SchemaProblem[] = [];
  const shapeAt = new Map<string, ErrorObject[]>();
  for (const e of kept) {
    if (isShape(e)) shapeAt.set(e.instancePath, [...(shapeAt.get(e.instancePath) ?? []), e]);
    else problems.push(translate(e));
  }
  for (const [path, errs] of shapeAt) {
    const expected = errs.flatMap((e) =>
      e.keyword === 'enum'
        ? (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v))
        : [typeName(String((e.params as { type: string }).type))],
    );
    const data = errs[0]!.data;
    const allowed = errs.flatMap((e) =>
      e.keyword === 'enum' ? (e.params as { allowedValues: unknown[] }).allowedValues.map(String) : [],
    );
    const guess = typeof data === 'string' ? closest(data, allowed) : undefined;
    const didYouMean = guess ? `; did you mean '${guess}'?` : '';
    problems.push({
      path,
      message: `expected ${[...new Set(expected)].join(' or ')}, got ${describe(data)}${didYouMean}`,
    });
  }
  if (problems.length === 0 && errors.length)
    problems.push({ path: errors[0]!.instancePath, message: 'does not match any allowed form' });
  return dedupe(problems);
}

/**
 * A oneOf branch that lacks its own required key at a place where a sibling branch got further
 * (failed on something other than a missing key) is the wrong branch for the value: its
 * "unknown field" and "missing field" there are noise (`{fails: x, criu: "4.1+"}` was also told
 * that 'fails' is unknown because the known-bug branch does not know it).
 */
function withoutWrongBranches(errors: ErrorObject[]): ErrorObject[] {
  const branch = (e: ErrorObject) => /^(.*\/oneOf\/)(\d+)\//.exec(e.schemaPath);
  const wrong = new Set<string>();
  for (const e of errors) {
    const m = e.keyword === 'required' ? branch(e) : null;
    if (!m) continue;
    const further = errors.some((o) => {
      const n = branch(o);
      return (
        n !== null &&
        n[1] === m[1] &&
        n[2] !== m[2] &&
        o.keyword !== 'required' &&
        o.instancePath.startsWith(e.instancePath)
      );
    });
    if (further) wrong.add(`${e.instancePath}\0${m[1]}${m[2]}/`);
  }
  if (wrong.size === 0) return errors;
  return errors.filter((e) => {
    if (e.keyword !== 'required' && e.keyword !== 'additionalProperties') return true;
    return ![...wrong].some((w) => {
      const [path, prefix] = w.split('\0') as [string, string];
      return e.instancePath === path && e.schemaPath.startsWith(prefix);
    });
  });
}

function typeName(t: string): string {
  return t === 'object' ? 'a mapping' : t === 'array' ? 'a list' : t === 'integer' ? 'an integer' : `a ${t}`;
}

function dedupe(ps: SchemaProblem[]): SchemaProblem[] {
  const seen = new Set<string>();
  // Several oneOf branches may reject the same unknown key; the one that
  // found a near miss is the most helpful, so it goes first.
  const ordered = [...ps].sort(
    (a, b) => Number(b.message.includes('did you mean')) - Number(a.message.includes('did you mean')),
  );
  return ordered.filter((p) => {
    const k = p.key !== undefined ? `${p.path}\0key` : `${p.path}\0${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function translate(e: ErrorObject): SchemaProblem {
  const path = e.instancePath;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const isStep = /^\/steps\/\d+$/.test(path);
      const guess = closest(key, known);
      const what = isStep ? 'step' : 'field';
      const p: SchemaProblem = {
        path: `${path}/${key}`,
        key,
        message: `unknown ${what} '${key}'${guess ? `, did you mean '${guess}'?` : ''}`,
      };
      if (!guess && known.length) p.suggestion = `known ${what}s: ${known.join(', ')}`;
      return p;
    }
    case 'required':
      return {
        path,
        message: `missing required field '${String((e.params as { missingProperty: string }).missingProperty)}'`,
      };
    case 'minProperties':
    case 'maxProperties':
      if (/^\/steps\/\d+$/.test(path)) {
        const keys = e.data && typeof e.data === 'object' ? Object.keys(e.data) : [];
        return {
          path,
          message:
            keys.length === 0
              ? 'a step needs a name: a mapping with exactly one key, like `mkdir: /a`'
              : `a step has exactly one key (its name); found ${keys.map((k) => `'${k}'`).join(', ')}`,
          suggestion: 'split it into one list item per action',
        };
      }
      return { path, message: e.message ?? e.keyword };
    case 'pattern':
      return { path, message: patternMessage(path, e) };
    case 'not':
      return {
        path,
        message: /\/(fd|close)$/.test(path)
          ? `fd ${String(e.data)} is reserved: fds 8 and 9 belong to the lab while steps run`
          : `${describe(e.data)} is not allowed here`,
      };
    case 'uniqueItems': {
      const { i } = e.params as { i: number; j: number };
      const dup = Array.isArray(e.data) ? e.data[i] : undefined;
      return { path, message: `lists ${JSON.stringify(dup)} twice` };
    }
    case 'maxLength':
    case 'maxItems':
    case 'maximum':
      return {
        path,
        message: `too large: ${e.message ?? ''} (got ${describe(e.data)})`.replace(' (got', ', got').replace(/\)$/, ''),
      };
    default: {
      const saysGot = e.keyword === 'minimum' || e.keyword === 'minLength' || e.keyword === 'minItems';
      return { path, message: `${e.message ?? e.keyword}${saysGot ? `, got ${describe(e.data)}` : ''}` };
    }
  }
}

/** What a schema pattern means, said for people; keyed by the start of the pattern. */
const FRIENDLY_PATTERNS: [RegExp, string][] = [
  [/^\^\(\?:\(\?:>=/, 'is not a version range: write comparisons like ">=5.15" or ">=6.1 <6.13"'],
  [
    /^\^\(\?:--\[a-z\]/,
    'is not a criu option: write --name, --name=value or a value after its --name ' +
      '(the name in lower-case letters, digits and -; no short options such as -D; no control characters)',
  ],
  [/^\^\[a-z0-9\]\[a-z0-9-\]\*\$/, 'must be lower-case letters, digits and -'],
  [/^\^\[a-z\]\[a-z0-9-\]\*\$/, 'must be lower-case letters, digits and -, starting with a letter'],
  [/^\^\[a-z0-9\]\[a-z0-9._-\]\*\$/, 'must be lower-case letters, digits, ".", "_" and "-"'],
  [
    /^\^\[A-Za-z0-9_.,=:\+\/-\]\+\$/,
    'is not a mount option list: letters, digits and _ . , = : + / - only (no spaces or shell characters)',
  ],
  [/^\^\[A-Za-z0-9_.-\]\+\$/, 'must be letters, digits, ".", "_" and "-"'],
  [/^\^0\?\[0-7\]/, 'is not an octal file mode like "0644"'],
  [/^\^\(\?:s\|m\|/, 'are not flags criu takes for mnt[]: s (shared mounts too), m (slave mounts too) or sm'],
  [/^\^\[0-9\]\{1,4\}\//, 'is not a device as decimal MAJOR/MINOR, like "7/0"'],
  [/^\^\[\^\\u0000\\n\]\+\$/, 'is empty or holds a NUL or a newline, which no mount source or link target can'],
  [
    /^\^https\?:/,
    'is not a link to an upstream report: ' +
      'give the http(s) address of the issue, pull request, commit or list message ' +
      '(a seed file or a source path is not a bug report), ' +
      'or, when none was found, write `upstream: none-found` with `searched`',
  ],
];

function patternMessage(path: string, e: ErrorObject): string {
  const v = typeof e.data === 'string' ? e.data : '';
  const pat = String((e.params as { pattern: string }).pattern);
  if (pat.startsWith('^/')) {
    if (!v.startsWith('/'))
      return `path ${JSON.stringify(v)} must be absolute (start with '/') inside the scenario root`;
    if (/(^|\/)\.\.(\/|$)/.test(v)) return `path ${JSON.stringify(v)} escapes the scenario root with '..'`;
    return `path ${JSON.stringify(v)} contains a NUL byte or newline`;
  }
  if (path === '/name')
    return (
      `name ${JSON.stringify(v)} must be lower-case letters, digits, '.', '_' or '-', ` +
      'starting with a letter or digit'
    );
  for (const [re, msg] of FRIENDLY_PATTERNS) if (re.test(pat)) return `${JSON.stringify(v)} ${msg}`;
  return `${JSON.stringify(v)} is not allowed here (must match ${pat})`;
}
