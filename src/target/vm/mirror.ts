import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PrerequisiteError } from '../../errors.js';

/**
 * The Debian mirror this machine already uses, read from its apt sources.
 * The repository never names a mirror host: it comes from here or --mirror.
 */
export function mirrorFromApt(aptDir = '/etc/apt'): string {
  const found = candidates(aptDir);
  const main = found.find((c) => !/security/.test(c.suites) && !/security/.test(c.uri)) ?? found[0];
  if (!main) {
    throw new PrerequisiteError(`no Debian mirror found in ${aptDir}/sources.list or ${aptDir}/sources.list.d/`, {
      hint: 'pass one with --mirror URL (a Debian archive root, the URL an apt sources line uses)',
    });
  }
  return main.uri.replace(/\/+$/, '');
}

interface Candidate {
  uri: string;
  suites: string;
}

function candidates(aptDir: string): Candidate[] {
  const out: Candidate[] = [];
  const files: string[] = [];
  try {
    for (const f of readdirSync(join(aptDir, 'sources.list.d')).sort()) files.push(join(aptDir, 'sources.list.d', f));
  } catch {
    /* no sources.list.d */
  }
  files.push(join(aptDir, 'sources.list'));
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    if (f.endsWith('.sources')) out.push(...deb822(text));
    else if (f.endsWith('.list')) out.push(...oneLine(text));
  }
  return out.filter((c) => /^https?:\/\//.test(c.uri) && /\/debian\/?$/.test(c.uri.replace(/\/+$/, '/')));
}

/** deb822 stanzas: `Types: deb`, `URIs: ...`, `Suites: ...`. */
function deb822(text: string): Candidate[] {
  const out: Candidate[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => stanza.match(new RegExp(`^${name}:\\s*(.+)$`, 'mi'))?.[1]?.trim() ?? '';
    if (!/\bdeb\b/.test(field('Types')) || /^no$/i.test(field('Enabled'))) continue;
    for (const uri of field('URIs').split(/\s+/).filter(Boolean)) out.push({ uri, suites: field('Suites') });
  }
  return out;
}

/** One-line style: `deb [opts] URI suite components`. */
function oneLine(text: string): Candidate[] {
  const out: Candidate[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = line.match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/);
    if (m) out.push({ uri: m[1]!, suites: m[2]! });
  }
  return out;
}
