import { join } from 'node:path';
import type { RunResult, ScenarioResult } from '../run/result.js';
import { writeAtomic } from './atomic.js';
import type { Reporter } from './reporter.js';

export const XPASS_MESSAGE = 'known bug no longer reproduces; update the expectation';

/** junit.xml: one testcase per scenario × cell, grouped in a testsuite per cell. */
export class JunitReporter implements Reporter {
  constructor(private readonly runDir: string) {}

  async onRunEnd(run: RunResult): Promise<void> {
    await writeAtomic(join(this.runDir, 'junit.xml'), renderJunit(run));
  }
}

export function renderJunit(run: RunResult): string {
  const byCell = new Map<string, ScenarioResult[]>();
  for (const r of run.results) byCell.set(r.cell, [...(byCell.get(r.cell) ?? []), r]);
  const count = (rs: ScenarioResult[], ...o: string[]) => rs.filter((r) => o.includes(r.outcome)).length;
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = run.results;
  out.push(
    `<testsuites name="mountlab" tests="${all.length}" failures="${count(all, 'fail', 'xpass')}" errors="${count(all, 'error')}" skipped="${count(all, 'skip', 'xfail')}" time="${secs(run.durationMs)}">`,
  );
  for (const [cell, rs] of byCell) {
    const facts = run.cells.find((c) => c.id === cell)?.facts;
    out.push(
      `  <testsuite name="${x(cell)}" tests="${rs.length}" failures="${count(rs, 'fail', 'xpass')}" errors="${count(rs, 'error')}" skipped="${count(rs, 'skip', 'xfail')}" time="${secs(rs.reduce((a, r) => a + r.durationMs, 0))}" timestamp="${x(run.startedAt.replace(/\.\d+Z$/, ''))}">`,
    );
    if (facts) {
      out.push('    <properties>');
      for (const [k, v] of Object.entries(facts)) out.push(`      <property name="${x(k)}" value="${x(String(v))}"/>`);
      out.push('    </properties>');
    }
    for (const r of rs) {
      out.push(`    <testcase name="${x(r.scenario)}" classname="${x(`mountlab.${cell}`)}" file="${x(r.file)}" time="${secs(r.durationMs)}">`);
      switch (r.outcome) {
        case 'fail':
          out.push(`      <failure message="${x(r.reason)}" type="topology">${x(details(r))}</failure>`);
          break;
        case 'xpass':
          out.push(`      <failure message="${x(XPASS_MESSAGE)}" type="xpass">${x(r.reason)}</failure>`);
          break;
        case 'error':
          out.push(`      <error message="${x(r.reason)}" type="${x(r.error?.phase ?? 'error')}">${x(details(r))}</error>`);
          break;
        case 'skip':
          out.push(`      <skipped message="${x(r.reason)}"/>`);
          break;
        case 'xfail':
          out.push(`      <skipped message="${x(`xfail: ${r.reason}`)}"/>`);
          break;
        case 'pass':
          break;
      }
      out.push(`      <system-out>${x(details(r))}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

function details(r: ScenarioResult): string {
  const lines = [`${r.outcome}: ${r.reason}`, `expected: ${r.expected}`];
  for (const d of r.differences) lines.push(`- ${d.sentence}`);
  for (const l of r.leaks) lines.push(`leak: ${l}`);
  if (r.error?.excerpt) lines.push('', r.error.excerpt);
  for (const [k, v] of Object.entries(r.artifacts)) lines.push(`${k}: ${v}`);
  return lines.join('\n');
}

/** XML-escapes text, dropping characters XML 1.0 cannot carry at all. */
function x(s: string): string {
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
