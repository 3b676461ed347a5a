/**
 * The framed output of labctl's calls that do several things at once
 * (`build`, `engine`; see the top of vm/runtime/labctl): a line
 * `mountlab-frames 1`, then JSON lines, each {"call":NAME,"code":N,"ms":N}
 * for a thing done (ms measured in the guest) or {"attach":NAME,"bytes":N}
 * followed by exactly N bytes and a newline, an attachment of the call
 * before it. The text is read as latin1, one character a byte, so that
 * byte counts are character counts and no byte is lost.
 */
export const FRAMES_MAGIC = 'mountlab-frames';
export const FRAMES_VERSION = 1;

export interface Frame {
  call: string;
  /** The exit status of what the guest ran. */
  code: number;
  /** How long it took, measured in the guest. */
  ms: number;
  /** Its attachments by name, latin1. */
  attachments: Map<string, string>;
}

export class FramesError extends Error {}

export function parseFrames(text: string): Frame[] {
  const head = `${FRAMES_MAGIC} ${FRAMES_VERSION}\n`;
  if (!text.startsWith(head)) {
    const first = JSON.stringify(text.split('\n')[0]?.slice(0, 80) ?? '');
    throw new FramesError(`not ${FRAMES_MAGIC} version ${FRAMES_VERSION}: the first line is ${first}`);
  }
  const frames: Frame[] = [];
  let at = head.length;
  while (at < text.length) {
    const eol = text.indexOf('\n', at);
    if (eol < 0) throw new FramesError(`a record cut short at byte ${at}`);
    const line = text.slice(at, eol);
    at = eol + 1;
    let rec: { call?: unknown; code?: unknown; ms?: unknown; attach?: unknown; bytes?: unknown };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      throw new FramesError(`not a JSON record: ${JSON.stringify(line.slice(0, 80))}`);
    }
    if (typeof rec.call === 'string' && typeof rec.code === 'number' && typeof rec.ms === 'number') {
      frames.push({ call: rec.call, code: rec.code, ms: rec.ms, attachments: new Map() });
    } else if (typeof rec.attach === 'string' && typeof rec.bytes === 'number') {
      const last = frames[frames.length - 1];
      if (!last) throw new FramesError(`attachment ${rec.attach} before any call`);
      if (text.length < at + rec.bytes + 1 || text[at + rec.bytes] !== '\n')
        throw new FramesError(`attachment ${rec.attach} of ${last.call} is cut short`);
      last.attachments.set(rec.attach, text.slice(at, at + rec.bytes));
      at += rec.bytes + 1;
    } else {
      throw new FramesError(`a record of no known kind: ${JSON.stringify(line.slice(0, 80))}`);
    }
  }
  return frames;
}
