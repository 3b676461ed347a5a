import type { GuestClient } from '../target/guest-client.js';
import { labctlClient } from '../target/labctl-client.js';
import type { StartedTarget } from '../target/target.js';

/**
 * A started target in the runner's hands. The target says only what it can
 * observe, whether it still answers; whether it is trusted with the next
 * scenario is judged here, from what the scenarios saw (a kernel that
 * oopsed, a cleanup that left something behind). The runner boots a fresh
 * guest in place of one that is no longer usable.
 */
export class Guest {
  private retired: string | undefined;

  constructor(
    readonly target: StartedTarget,
    /** How scenarios talk to it: labctl unless a test fakes the typed interface. */
    readonly client: GuestClient = labctlClient(target),
  ) {}

  /** No further scenario runs on it. The first reason is the one the log gives. */
  retire(reason: string): void {
    this.retired ??= reason;
  }

  get retiredBecause(): string | undefined {
    return this.retired;
  }

  /** Trusted with another scenario: not retired, and the target still answers. */
  get usable(): boolean {
    return this.retired === undefined && this.target.alive;
  }
}
