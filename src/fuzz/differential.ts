/**
 * Differential mode (`--cell A --cell B`): every scenario runs on each cell,
 * and a scenario that passes on the baseline (the first cell) and fails on
 * another is a regression in that cell; one that fails on the baseline and
 * passes on another is fixed there. Either is a finding of its own kind,
 * under the failing side's signature, whether or not that signature is
 * also a finding (or known) on its own.
 */
import type { ScenarioResult } from '../results/result.js';
import { signatureOf, type Signature } from '../results/signature.js';
import { campaignSignature } from './findings.js';

export interface CellVerdict {
  cell: string;
  result: ScenarioResult;
}

export interface DifferentialFinding {
  class: 'regression' | 'fixed';
  signature: Signature;
  /** The failing side's own signature (before campaignSignature). */
  exact: Signature;
  /** The cell that passed and the one that did not. */
  passed: string;
  failed: string;
  /** The failing side's result. */
  result: ScenarioResult;
}

/** Whether a result counts as a pass for the comparison: a skip says nothing, a set-up failure is the generator's. */
function side(r: ScenarioResult): 'pass' | 'fail' | 'none' {
  if (r.outcome === 'skip') return 'none';
  const s = signatureOf(r);
  if (s.kind === 'pass') return 'pass';
  if (r.error?.phase === 'setup' || r.error?.phase === 'boot') return 'none';
  return 'fail';
}

/** The differential findings of one scenario run: each cell after the first against the first. */
export function compareCells(verdicts: readonly CellVerdict[]): DifferentialFinding[] {
  const [base, ...others] = verdicts;
  if (!base) return [];
  const out: DifferentialFinding[] = [];
  for (const o of others) {
    const a = side(base.result);
    const b = side(o.result);
    if (a === 'pass' && b === 'fail')
      out.push({
        class: 'regression',
        signature: campaignSignature(signatureOf(o.result)),
        exact: signatureOf(o.result),
        passed: base.cell,
        failed: o.cell,
        result: o.result,
      });
    else if (a === 'fail' && b === 'pass')
      out.push({
        class: 'fixed',
        signature: campaignSignature(signatureOf(base.result)),
        exact: signatureOf(base.result),
        passed: o.cell,
        failed: base.cell,
        result: base.result,
      });
  }
  return out;
}
