/** Dotted numeric versions: "6.12.107+deb13-amd64" reads as [6, 12, 107]. */
export function parseVersion(v: string): number[] | undefined {
  const m = v.match(/^\s*(\d+(?:\.\d+)*)/);
  return m ? m[1]!.split('.').map(Number) : undefined;
}

export function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return Math.sign(d);
  }
  return 0;
}

/**
 * Whether `version` satisfies every comparison in `range` (">=6.1 <6.13").
 * An unparsable version satisfies nothing, so a requirement is never met
 * by accident.
 */
export function inRange(version: string, range: string): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  return range
    .trim()
    .split(/\s+/)
    .every((term) => {
      const m = term.match(/^(>=|<=|>|<|=)(\d+(?:\.\d+)*)$/);
      if (!m) return false;
      const c = compareVersions(v, m[2]!.split('.').map(Number));
      switch (m[1]) {
        case '>=':
          return c >= 0;
        case '<=':
          return c <= 0;
        case '>':
          return c > 0;
        case '<':
          return c < 0;
        default:
          return c === 0;
      }
    });
}
