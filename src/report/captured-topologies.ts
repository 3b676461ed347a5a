import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCapture } from '../capture/capture-file.js';
import { buildTopology, type Topology } from '../compare/topology.js';
import { SCENARIO_FILES } from '../results/artifacts.js';
import type { ScenarioResult } from '../results/result.js';

/** A file of a run directory by its artifact path (relative to the run directory); undefined when it cannot be read. */
export type ReadArtifact = (rel: string, encoding: BufferEncoding) => Promise<string | undefined>;

/** The files of a run directory as mountlab wrote them. */
export function runDirArtifacts(runDir: string): ReadArtifact {
  return async (rel, encoding) => {
    try {
      return await readFile(join(runDir, rel), encoding);
    } catch {
      return undefined;
    }
  };
}

/** A scenario's mount topologies; each undefined when its capture is missing, unreadable or does not parse. */
export interface CapturedTopologies {
  before?: Topology;
  after?: Topology;
}

/**
 * The topologies before the dump and after the restore, from the captures
 * a result saved: the one way the reports (index.html's pictures,
 * summary.md's trees) read them back.
 */
export async function capturedTopologies(r: ScenarioResult, read: ReadArtifact): Promise<CapturedTopologies> {
  const before = await topologyOf(r, SCENARIO_FILES.before, read);
  const after = await topologyOf(r, SCENARIO_FILES.after, read);
  return { ...(before ? { before } : {}), ...(after ? { after } : {}) };
}

async function topologyOf(r: ScenarioResult, key: string, read: ReadArtifact): Promise<Topology | undefined> {
  const rel = r.artifacts[key];
  if (!rel) return undefined;
  const text = await read(rel, 'latin1');
  if (text === undefined) return undefined;
  try {
    return buildTopology(parseCapture(text, rel));
  } catch {
    return undefined;
  }
}
