import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * The guest's serial console: kept in memory for marker and oops detection,
 * and written to console.log in the run directory for people.
 */
export class ConsoleLog {
  private text = '';
  private readonly file: WriteStream;
  private readonly waiters = new Set<() => void>();

  constructor(path: string) {
    this.file = createWriteStream(path, { flags: 'a' });
  }

  append(chunk: Buffer): void {
    const s = chunk.toString('latin1');
    this.text += s;
    this.file.write(chunk);
    for (const w of this.waiters) w();
  }

  get length(): number {
    return this.text.length;
  }

  since(mark: number): string {
    return this.text.slice(mark);
  }

  tail(lines = 30): string {
    return this.text.replace(/\r/g, '').split('\n').slice(-lines).join('\n');
  }

  /** Resolves with the first match of any pattern at or after `from`. */
  waitFor(patterns: RegExp[], from: number, signal: AbortSignal): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const seg = this.text.slice(from);
        for (const p of patterns) {
          const m = seg.match(p);
          if (m) {
            cleanup();
            resolve(m);
            return;
          }
        }
      };
      const onAbort = () => {
        cleanup();
        reject(signal.reason);
      };
      const cleanup = () => {
        this.waiters.delete(check);
        signal.removeEventListener('abort', onAbort);
      };
      this.waiters.add(check);
      signal.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  close(): Promise<void> {
    return new Promise((r) => this.file.end(r));
  }
}
