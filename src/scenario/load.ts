import { isUtf8 } from 'node:buffer';
import { readFileSync, type Stats } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import {
  Composer,
  Lexer,
  LineCounter,
  Parser,
  isAlias,
  isCollection,
  isMap,
  isSeq,
  isScalar,
  isPair,
  type CST,
  type Document,
  type Node,
} from 'yaml';
import { BadInputError, type InputProblem } from '../errors.js';
import type { Scenario } from './scenario.generated.js';
import { schemaValidate } from './validate.js';
import { semanticProblems } from './semantics.js';

/** A scenario that parsed and validated, with where it came from. */
export interface LoadedScenario {
  file: string;
  text: string;
  scenario: Scenario;
  /**
   * Where the value at a JSON pointer starts in the file (its nearest ancestor's start when it
   * is absent): checks made after loading say file:line:col too.
   */
  positionOf(pointer: string): { line: number; col: number };
}

/** Scenario files are small; a megabyte is already absurd. */
export const MAX_SCENARIO_BYTES = 1 << 20;

/**
 * A scenario file's path: a string, or the bytes of a name that is not UTF-8, which a string
 * cannot hold (Node decodes it with U+FFFD and then names another file).
 */
export type ScenarioPath = string | Buffer;

export async function loadScenarioFile(file: ScenarioPath): Promise<LoadedScenario> {
  const display = relativeToCwd(typeof file === 'string' ? file : nameText(file));
  // The name is written into the guest's script (a comment line: a newline
  // in it would end the comment and run the rest) and into every report.
  const control = /[\x00-\x1f\x7f]/.exec(display);
  if (control) {
    const shown = JSON.stringify(display).slice(1, -1);
    throw new BadInputError([
      {
        file: shown,
        line: 1,
        col: 1,
        path: '',
        message: `the file name has a control character (${JSON.stringify(control[0])}); rename the file`,
      },
    ]);
  }
  let buf: Buffer;
  try {
    const st = await stat(file);
    if (!st.isFile())
      throw new BadInputError([{ file: display, line: 1, col: 1, path: '', message: 'not a regular file' }]);
    const tooBig = (size: number) =>
      new BadInputError([
        {
          file: display,
          line: 1,
          col: 1,
          path: '',
          message: `file is ${size} bytes; a scenario may be at most 1 MiB (${MAX_SCENARIO_BYTES} bytes)`,
        },
      ]);
    if (st.size > MAX_SCENARIO_BYTES) throw tooBig(st.size);
    buf = await readFile(file);
    // It may have grown since stat().
    if (buf.length > MAX_SCENARIO_BYTES) throw tooBig(buf.length);
  } catch (e) {
    if (e instanceof BadInputError) throw e;
    throw new BadInputError([
      { file: display, line: 1, col: 1, path: '', message: `cannot read: ${(e as Error).message}` },
    ]);
  }
  return parseScenario(buf, display);
}

export function parseScenario(input: Buffer | string, file: string): LoadedScenario {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const nul = buf.indexOf(0);
  if (nul >= 0) {
    // Columns count characters, as everywhere else, not bytes.
    const before = buf.subarray(0, nul).toString('utf8');
    throw new BadInputError([
      {
        file,
        ...offsetToPos(before, before.length),
        path: '',
        message: 'NUL byte in file: this is not a YAML text file',
      },
    ]);
  }
  const text = buf.toString('utf8');
  if (!isUtf8(buf)) {
    throw new BadInputError([
      {
        file,
        ...offsetToPos(text, firstInvalidUtf8(buf, text)),
        path: '',
        message: 'invalid UTF-8 in file: this is not a YAML text file',
      },
    ]);
  }
  const lc = new LineCounter();
  // parseDocument() in two steps, so the token tree can be checked before
  // the composer recurses into it.
  const early = lexicalLimits(text);
  if (early) throw new BadInputError([{ file, ...offsetToPos(text, early.offset), path: '', message: early.message }]);
  const tokens = Array.from(new Parser(lc.addNewLine).parse(text));
  const big = treeLimits(tokens);
  if (big) throw new BadInputError([{ file, ...lc.linePos(big.offset), path: '', message: big.message }]);
  const version = yamlVersionProblem(tokens);
  if (version) throw new BadInputError([{ file, ...lc.linePos(version.offset), path: '', message: version.message }]);
  // uniqueKeys rejects duplicate keys; stringKeys makes every key a string
  // and refuses lists, mappings and aliases as keys.
  const composer = new Composer({ uniqueKeys: true, strict: true, stringKeys: true });
  const docs: Document.Parsed[] = [];
  for (const d of composer.compose(tokens, true, text.length)) {
    docs.push(d);
    if (docs.length === 2) break;
  }
  const doc = docs[0]!;
  const problems: InputProblem[] = [];
  if (docs[1]) {
    problems.push({
      file,
      ...lc.linePos(docs[1].range[0]),
      path: '',
      message: 'a second YAML document starts here; a scenario file holds exactly one',
    });
  }
  for (const err of doc.errors) {
    const [start] = err.pos;
    const { line, col } = lc.linePos(start);
    problems.push({ file, line, col, path: '', message: yamlMessage(err.code, err.message) });
  }
  const tabLine = text.split('\n').findIndex((l) => /^ *\t/.test(l));
  if (tabLine >= 0 && problems.length === 0) {
    problems.push({
      file,
      line: tabLine + 1,
      col: text.split('\n')[tabLine]!.indexOf('\t') + 1,
      path: '',
      message: 'tab used for indentation; YAML needs spaces',
    });
  }
  if (problems.length) throw new BadInputError(problems);
  const structural = nodeProblems(doc).map((p) => ({ file, ...lc.linePos(p.offset), path: '', message: p.message }));
  // Warnings are errors too, but for unresolved tags: nodeProblems() names
  // the ones that matter, and an unresolved !!float leaves a harmless string.
  for (const w of doc.warnings) {
    if (w.code !== 'TAG_RESOLVE_FAILED')
      structural.push({ file, ...lc.linePos(w.pos[0]), path: '', message: yamlMessage(w.code, w.message) });
  }
  if (structural.length) throw new BadInputError(sortProblems(structural));

  let data: unknown;
  try {
    // nodeProblems() has bounded what aliases expand to; this is the library's own guard behind it.
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    throw new BadInputError([
      { file, line: 1, col: 1, path: '', message: `cannot expand document: ${(e as Error).message}` },
    ]);
  }
  if (data === null || data === undefined) {
    throw new BadInputError([
      {
        file,
        line: 1,
        col: 1,
        path: '',
        message: 'empty document: a scenario needs name, description, steps and expect',
      },
    ]);
  }
  const schemaProblems = schemaValidate(data);
  const located: InputProblem[] = schemaProblems.map((p) => {
    const at = locate(doc, lc, p.path, p.key !== undefined);
    const out: InputProblem = { file, ...at, path: p.path, message: p.message };
    if (p.suggestion !== undefined) out.suggestion = p.suggestion;
    return out;
  });
  if (located.length) throw new BadInputError(sortProblems(located));
  const scenario = data as Scenario;
  const sem = semanticProblems(scenario).map((p) => {
    const out: InputProblem = { file, ...locate(doc, lc, p.path, false), path: p.path, message: p.message };
    if (p.suggestion !== undefined) out.suggestion = p.suggestion;
    return out;
  });
  if (sem.length) throw new BadInputError(sortProblems(sem));
  return { file, text, scenario, positionOf: (pointer) => locate(doc, lc, pointer, false) };
}

/**
 * Limits no valid scenario comes near, checked before the YAML library
 * builds anything, because its work grows faster than the input there:
 * - the composer recurses once per level, so a few thousand `[` overflowed
 *   the stack (reported as a syntax error at an arbitrary place), and the
 *   token tree of a megabyte of `[[[[` or `- - - -` took 3.5 s and 660 MiB;
 * - the token tree of one long flow list is built in quadratic time (a
 *   megabyte of `[a,a,a,...]` took 10 s), duplicate keys are looked for
 *   pairwise (20,000 keys: 8 s), and the schema validator, collecting every
 *   error, slows down on thousands of them (30,000 steps: 3 s).
 * A scenario nests about 3 levels per spawn (at most 8 spawns deep); the
 * schema's longest list is 500 (steps), its widest mapping a step (29
 * names); a tree script is at most 120 KiB, which no scenario of more than
 * about 40,000 values fits. A near miss (501 steps) still gets the schema's
 * own message.
 */
const MAX_NESTING = 64;
const MAX_LIST_ITEMS = 1000;
const MAX_MAP_KEYS = 100;
const MAX_VALUES = 50_000;
const TOO_DEEP = `lists and mappings nest more than ${MAX_NESTING} deep here; a scenario needs far fewer levels`;
const TOO_MANY_VALUES = [
  `more than ${MAX_VALUES} values by here`,
  "no scenario that fits the guest's script limit has that many",
].join('; ');
const TOO_MANY_ITEMS = [
  `more than ${MAX_LIST_ITEMS} items in one list or mapping`,
  'no list in a scenario may have more than 500',
].join('; ');

interface Limit {
  offset: number;
  message: string;
}

/**
 * The limits that can be seen in the lexer's flat token stream: values in
 * all, flow nesting and flow list length, and runs of `-`/`?` on one line
 * (compact nesting). The nesting counts can only be lower than the real
 * depth; treeLimits() is the exact check.
 */
function lexicalLimits(text: string): Limit | undefined {
  let offset = 0;
  let values = 0;
  let run = 0;
  const commas: number[] = []; // per open flow collection
  let scalarNext = false;
  for (const tok of new Lexer().lex(text)) {
    // Lexer markers (document start, flow end, scalar follows) are not source text.
    if (tok === '\x02' || tok === '\x18') continue;
    if (tok === '\x1f') {
      scalarNext = true;
      continue;
    }
    const at = offset;
    offset += tok.length;
    const c = tok[0];
    if (
      scalarNext ||
      c === '[' ||
      c === '{' ||
      c === '"' ||
      c === "'" ||
      c === '|' ||
      c === '>' ||
      ((c === '-' || c === '?') && tok.length === 1)
    ) {
      if (++values > MAX_VALUES) return { offset: at, message: TOO_MANY_VALUES };
    }
    scalarNext = false;
    if (tok === '[' || tok === '{') {
      commas.push(0);
      if (commas.length > MAX_NESTING) return { offset: at, message: TOO_DEEP };
    } else if (tok === ']' || tok === '}') {
      commas.pop();
    } else if (tok === ',' && commas.length) {
      if (++commas[commas.length - 1]! >= MAX_LIST_ITEMS) return { offset: at, message: TOO_MANY_ITEMS };
    }
    if (commas.length === 0 && (tok === '-' || tok === '?')) {
      if (++run > MAX_NESTING) return { offset: at, message: TOO_DEEP };
    } else if (c !== ' ') {
      run = 0;
    }
  }
  return undefined;
}

/** Nesting and the size of each list and mapping in the token tree, walked without recursion. */
function treeLimits(tokens: CST.Token[]): Limit | undefined {
  const stack: [CST.Token, number][] = tokens.map((t) => [t, 0]);
  while (stack.length) {
    const [t, depth] = stack.pop()!;
    if (t.type === 'document') {
      if (t.value) stack.push([t.value, depth]);
    } else if (t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection') {
      if (depth >= MAX_NESTING) return { offset: t.offset, message: TOO_DEEP };
      const isList = t.type === 'block-seq' || (t.type === 'flow-collection' && t.start.source === '[');
      if (t.items.length > (isList ? MAX_LIST_ITEMS : MAX_MAP_KEYS)) {
        return {
          offset: t.offset,
          message: isList
            ? `a list of ${t.items.length} items; no list in a scenario may have more than 500`
            : `a mapping with ${t.items.length} keys; no mapping in a scenario has more than 29`,
        };
      }
      for (const it of t.items) {
        if (it.key) stack.push([it.key, depth + 1]);
        if (it.value) stack.push([it.value, depth + 1]);
      }
    }
  }
  return undefined;
}

/**
 * Under `%YAML 1.1` the library reads the same text as other values: `012` is 10, `1:30` is 90,
 * `yes` is true, and `<<` merges keys. A scenario means one thing, so it is YAML 1.2, said or not.
 */
function yamlVersionProblem(tokens: CST.Token[]): Limit | undefined {
  for (const t of tokens) {
    if (t.type !== 'directive') continue;
    const m = /^%YAML(?:[ \t]+([^\s#]+))?/.exec(t.source);
    if (!m || m[1] === '1.2') continue;
    const said = m[1] === undefined ? 'a %YAML directive without a version' : `%YAML ${m[1]}`;
    const at = m[1] === undefined ? t.offset : t.offset + t.source.indexOf(m[1], 5);
    return {
      offset: at,
      message:
        `${said}: a scenario is YAML 1.2 ` +
        '(under 1.1, 012 reads as 10, 1:30 as 90, yes as true, and << merges keys); ' +
        'remove the directive or write %YAML 1.2',
    };
  }
  return undefined;
}

/** Aliases a scenario may use at all; a real one needs a handful. */
const MAX_ALIASES = 100;
/** Values that aliases may stand for in total, counted as expanded (a billion laughs is 10^9). */
const MAX_ALIASED_VALUES = 10_000;
/** Tags whose values are plain JSON; !!binary, !!set, !!timestamp and custom tags are not. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * What must be refused before the document is turned into data, found in
 * one walk of its node tree without recursion and without expanding
 * aliases:
 * - an alias inside the value it names: toJS() builds a cyclic object,
 *   on which the schema validator recursed until the stack overflowed;
 * - aliases that expand to too much (a YAML alias bomb), or too many
 *   aliases: the library resolves each alias by a scan of all anchors
 *   before it, so 100k anchors used once each took 14 s;
 * - tags that make something other than a string, number, boolean, list or
 *   mapping (binary data, a set, a date);
 * - strings no guest can receive byte for byte: a NUL (only an escape can
 *   make one; the file itself has none) or half of a UTF-16 surrogate pair
 *   (`"\ud800"`), which UTF-8 cannot encode and which would reach the guest
 *   as U+FFFD.
 */
function nodeProblems(doc: Document): { offset: number; message: string }[] {
  const problems: { offset: number; message: string }[] = [];
  const at = (n: Node, message: string) => problems.push({ offset: n.range?.[0] ?? 0, message });
  const anchors = new Map<string, Node>();
  /** How many values a node stands for with its aliases expanded; set once its subtree is done. */
  const size = new Map<Node, number>();
  const ancestors = new Set<Node>();
  let aliases = 0;
  let aliased = 0;
  const stack: { node: Node; done: boolean }[] = doc.contents ? [{ node: doc.contents as Node, done: false }] : [];
  while (stack.length) {
    const { node, done } = stack.pop()!;
    const children = isCollection(node)
      ? node.items
          .flatMap((it) => (isPair(it) ? [it.key, it.value] : [it]))
          .filter((c): c is Node => c !== null && c !== undefined)
      : [];
    if (done) {
      ancestors.delete(node);
      size.set(
        node,
        children.reduce((n, c) => n + (size.get(c) ?? 1), 1),
      );
      continue;
    }
    if (node.tag !== undefined && !PLAIN_TAGS.has(node.tag)) {
      at(
        node,
        `the tag ${node.tag.replace(/^tag:yaml\.org,2002:/, '!!')} is not allowed: ` +
          'a scenario is made of strings, numbers, booleans, lists and mappings',
      );
    }
    if (isAlias(node)) {
      // The library resolves an alias to the last node before it with that anchor, in this walk's order.
      const target = anchors.get(node.source);
      if (!target) {
        at(node, `the alias *${node.source} has no anchor &${node.source} before it`);
        continue;
      }
      if (ancestors.has(target)) {
        at(node, `the alias *${node.source} is inside the value it names: it would expand forever`);
        continue;
      }
      const n = size.get(target) ?? 1;
      size.set(node, n);
      aliased += n;
      if (++aliases > MAX_ALIASES) {
        at(node, `more than ${MAX_ALIASES} aliases; write the values out`);
        break;
      }
      if (aliased > MAX_ALIASED_VALUES) {
        at(
          node,
          `aliases expand to more than ${MAX_ALIASED_VALUES} values by here ` +
            `(*${node.source} alone stands for ${n}): a YAML alias bomb`,
        );
        break;
      }
      continue;
    }
    if (node.anchor) anchors.set(node.anchor, node);
    if (isScalar(node) && typeof node.value === 'string') {
      const v = node.value;
      if (v.includes('\0')) {
        // "\040" in double quotes is YAML's \0 then "40", not mountinfo's escaped space.
        const hint = v.includes('\u000040')
          ? '; inside double quotes `\\040` is the escape \\0 (NUL) followed by "40": ' +
            'write a space, or use single quotes for a literal backslash'
          : '';
        at(node, `a NUL character (from an escape such as \\0) cannot be part of a scenario${hint}`);
      } else if (LONE_SURROGATE.test(v)) {
        at(
          node,
          'half of a UTF-16 surrogate pair (an escape such as \\ud800) is not a character and has no UTF-8 bytes',
        );
      }
    }
    if (isCollection(node)) {
      ancestors.add(node);
      stack.push({ node, done: true });
      for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, done: false });
    }
  }
  return problems;
}

/** More problems than this in one file say the file is not a scenario at all; the rest are counted, not listed. */
const MAX_PROBLEMS = 50;

function sortProblems(ps: InputProblem[]): InputProblem[] {
  const sorted = [...ps].sort((a, b) => a.line - b.line || a.col - b.col);
  if (sorted.length <= MAX_PROBLEMS) return sorted;
  const next = sorted[MAX_PROBLEMS]!;
  return [
    ...sorted.slice(0, MAX_PROBLEMS),
    {
      file: next.file,
      line: next.line,
      col: next.col,
      path: '',
      message: `and ${sorted.length - MAX_PROBLEMS} more problems from here on, not shown`,
    },
  ];
}

function yamlMessage(code: string, message: string): string {
  const first = message.split('\n')[0] ?? message;
  switch (code) {
    case 'DUPLICATE_KEY':
      return `duplicate key: ${first.replace(/^Map keys must be unique.*$/, 'each key may appear once in a mapping')}`;
    case 'TAB_AS_INDENT':
      return 'tab used for indentation; YAML needs spaces';
    case 'NON_STRING_KEY':
      return 'a key must be a plain name, not a list, a mapping or an alias';
    default:
      return `YAML syntax: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
  }
}

/** Finds the node at a JSON pointer and returns its line:col; falls back to the nearest ancestor. */
function locate(doc: Document, lc: LineCounter, pointer: string, atKey: boolean): { line: number; col: number } {
  const segs = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = doc.contents;
  let best: { line: number; col: number } =
    node && (node as Node).range ? lc.linePos((node as Node).range![0]) : { line: 1, col: 1 };
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === seg);
      if (!pair) break;
      const last = i === segs.length - 1;
      const target = last && atKey ? pair.key : (pair.value ?? pair.key);
      const range = (target as Node | null)?.range ?? (pair.key as Node | null)?.range;
      if (range) best = lc.linePos(range[0]);
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (!item) break;
      const range = (item as Node).range;
      if (range) best = lc.linePos(range[0]);
      node = item;
    } else break;
  }
  return best;
}

/**
 * Where the decoder put its first U+FFFD for bytes that are not UTF-8, as
 * an offset in the decoded text. A U+FFFD written in the file (EF BF BD) is
 * a character like any other. Up to the first bad sequence every character
 * decoded from exactly its own bytes, so byte offsets can be kept in step.
 */
function firstInvalidUtf8(buf: Buffer, text: string): number {
  let byte = 0;
  let i = 0;
  for (const ch of text) {
    if (ch === '\uFFFD' && !(buf[byte] === 0xef && buf[byte + 1] === 0xbf && buf[byte + 2] === 0xbd)) return i;
    byte += Buffer.byteLength(ch);
    i += ch.length;
  }
  return 0;
}

function offsetToPos(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return { line, col };
}

/**
 * A path's bytes as text: UTF-8 where they are UTF-8, each other byte as `\xHH`, so the name
 * in messages and reports says exactly which bytes the file has.
 */
export function nameText(bytes: Buffer): string {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    const seq = len ? bytes.subarray(i, i + len) : undefined;
    if (seq && seq.length === len && isUtf8(seq)) {
      out += seq.toString('utf8');
      i += len;
    } else {
      out += `\\x${b.toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}

/**
 * Node decodes each argument as UTF-8, so a name that is not arrives with U+FFFD in it and
 * names no file. The kernel keeps the bytes in /proc/self/cmdline: the argument that decodes
 * to this one is the name the user typed.
 */
export function argumentBytes(arg: string, cmdline: Buffer | undefined = readCmdline()): Buffer | undefined {
  if (!arg.includes('\uFFFD') || !cmdline) return undefined;
  let start = 0;
  for (let end = cmdline.indexOf(0); end >= 0; start = end + 1, end = cmdline.indexOf(0, start)) {
    const raw = cmdline.subarray(start, end);
    if (!isUtf8(raw) && raw.toString('utf8') === arg) return Buffer.from(raw);
  }
  return undefined;
}

function readCmdline(): Buffer | undefined {
  try {
    return readFileSync('/proc/self/cmdline');
  } catch {
    return undefined;
  }
}

/** How messages and reports name a scenario file: relative to the working directory when it is below it. */
function relativeToCwd(file: string): string {
  const rel = relative(process.cwd(), resolve(file));
  return rel.startsWith('..') ? resolve(file) : rel;
}

/**
 * Expands directories into the scenario files below them, sorted so runs are deterministic.
 * Names are read as bytes: one that is not UTF-8 comes back as a Buffer (ScenarioPath).
 */
export async function discoverScenarioFiles(paths: string[]): Promise<ScenarioPath[]> {
  const out: ScenarioPath[] = [];
  for (const arg of paths) {
    const p = argumentBytes(arg) ?? arg;
    let st: Stats;
    try {
      st = await stat(p);
    } catch (e) {
      // Not every failure is a missing file: a symlink loop or a directory one may not enter say so.
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such file or directory'
          : code === 'ELOOP'
            ? 'too many levels of symbolic links'
            : code === 'EACCES'
              ? 'permission denied'
              : (e as Error).message;
      // Without /proc the bytes of a non-UTF-8 argument are lost; say that, not that the file is missing.
      const lost = code === 'ENOENT' && arg.includes('\uFFFD') && typeof p === 'string';
      const message = lost
        ? 'the name is not valid UTF-8 and its bytes could not be recovered (no /proc/self/cmdline); ' +
          'rename the file, or pass its directory'
        : why;
      throw new BadInputError([{ file: typeof p === 'string' ? p : nameText(p), line: 1, col: 1, path: '', message }]);
    }
    if (st.isDirectory()) out.push(...(await walk(typeof p === 'string' ? Buffer.from(p) : p)));
    else out.push(p);
  }
  const seen = new Set<string>();
  return out.filter((f) => {
    const k = typeof f === 'string' ? f : f.toString('latin1');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const SCENARIO_SUFFIX = /\.ya?ml$/;

async function walk(dir: Buffer): Promise<ScenarioPath[]> {
  const entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  entries.sort((a, b) => nameText(a.name).localeCompare(nameText(b.name)));
  const out: ScenarioPath[] = [];
  for (const e of entries) {
    const full =
      isUtf8(dir) && isUtf8(e.name)
        ? Buffer.from(join(dir.toString(), e.name.toString()))
        : Buffer.concat([dir, Buffer.from('/'), e.name]);
    if (e.isDirectory()) out.push(...(await walk(full)));
    else if (SCENARIO_SUFFIX.test(e.name.toString('latin1'))) out.push(isUtf8(full) ? full.toString('utf8') : full);
  }
  return out;
}
