/**
 * Guests of one cell kept for many short runs of one scenario's variants
 * (mountlab reduce): up to `jobs` at once, each booted when first needed,
 * reset between scenarios as the runner does (fresh namespaces on a
 * throw-away overlay), and replaced when it is no longer trusted. Every
 * scenario goes through executeScenario, as in `mountlab run`, so a
 * candidate fails exactly as it would there.
 */
import type { LoadedScenario } from '../scenario/load.js';
import type { GuestClient } from '../target/guest-client.js';
import type { StartedTarget } from '../target/target.js';
import type { ScenarioResult, TargetFacts } from '../results/result.js';
import type { Reporter } from '../report/reporter.js';
import { executeScenario } from './execute-scenario.js';
import { Guest } from './guest.js';
import type { CellPlan } from './runner.js';
import { scenarioRuns } from './variants.js';

export interface GuestPoolOptions {
  cell: CellPlan;
  jobs: number;
  runDir: string;
  signal: AbortSignal;
  probes: boolean;
  reporter?: Reporter;
  /** How scenarios talk to a started guest; labctl when absent (tests fake it). */
  guestClient?: (t: StartedTarget) => GuestClient;
}

export class GuestPool implements AsyncDisposable {
  private readonly idle: Guest[] = [];
  private readonly all = new Set<StartedTarget>();
  private readonly waiting: ((g: Guest | undefined) => void)[] = [];
  private starting = 0;
  private seq = 0;
  private firstFacts: TargetFacts | undefined;

  constructor(private readonly o: GuestPoolOptions) {}

  get jobs(): number {
    return this.o.jobs;
  }

  /** The facts of the first guest that started (kernel, criu), once one has. */
  get facts(): TargetFacts | undefined {
    return this.firstFacts;
  }

  /** Runs a scenario on a free guest, as `mountlab run` would, under `name` in the run directory. */
  async run(loaded: LoadedScenario, name: string): Promise<ScenarioResult> {
    const guest = await this.take();
    try {
      const run = { ...scenarioRuns([loaded])[0]!, name };
      return await executeScenario(guest, run, {
        cell: this.o.cell.id,
        runDir: this.o.runDir,
        reporter: this.o.reporter ?? {},
        signal: this.o.signal,
        guestId: `r${++this.seq}`,
        probes: this.o.probes,
      });
    } finally {
      await this.give(guest);
    }
  }

  private async take(): Promise<Guest> {
    if (this.o.signal.aborted) throw this.o.signal.reason;
    const free = this.idle.pop();
    if (free) return free;
    if (this.all.size + this.starting < this.o.jobs) {
      this.starting++;
      try {
        const t = await this.o.cell.target.start(this.o.signal);
        this.all.add(t);
        this.firstFacts ??= t.facts;
        return new Guest(t, this.o.guestClient?.(t));
      } finally {
        this.starting--;
      }
    }
    const g = await new Promise<Guest | undefined>((resolve) => this.waiting.push(resolve));
    return g ?? this.take();
  }

  /** A guest back after a scenario: to the next waiter, or idle; one no longer trusted is ended. */
  private async give(g: Guest): Promise<void> {
    if (!g.usable) {
      this.all.delete(g.target);
      const why = g.retiredBecause ?? 'it stopped answering';
      this.o.reporter?.onLog?.(`${this.o.cell.id}: the guest is no longer trusted (${why}); booting a fresh one`);
      await g.target[Symbol.asyncDispose]();
      // A waiter boots its own.
      this.waiting.shift()?.(undefined);
      return;
    }
    const next = this.waiting.shift();
    if (next) next(g);
    else this.idle.push(g);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const ts = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.allSettled(ts.map((t) => t[Symbol.asyncDispose]()));
  }
}
