import { BadInputError } from '../errors.js';

/**
 * A duration flag (`--budget`, `--reduce-budget`): "30m", "90s", "2h",
 * "1h30m", or a bare number of minutes ("20", "1.5"). One reader for every
 * command, so a budget that one takes the other takes too.
 */
export function parseDuration(flag: string, text: string, o: { zero?: boolean } = {}): number {
  const t = text.trim();
  if (o.zero && /^0+$/.test(t)) return 0;
  const refuse = (message: string) =>
    new BadInputError(
      [{ file: flag, line: 1, col: 1, path: '', message }],
      `give minutes (20) or a duration such as 90s, 30m, 2h, 1h30m${o.zero ? '; 0 for none' : ''}`,
    );
  if (/^\d+(\.\d+)?$/.test(t)) {
    const ms = Math.round(Number(t) * 60_000);
    if (ms <= 0) throw refuse('the duration is 0');
    return ms;
  }
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(t);
  if (!m || (!m[1] && !m[2] && !m[3])) throw refuse(`'${text}' is no duration`);
  const ms = (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
  if (ms <= 0) throw refuse('the duration is 0');
  return ms;
}
