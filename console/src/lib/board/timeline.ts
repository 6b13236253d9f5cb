// A timeline record in a line: the office sends each record with its localised title (from the
// checklist template) and payload; this says what the payload holds in words.

/** Bookkeeping fields of attachments and positions, not what a reader wants in a summary. */
const SKIP = new Set(['sha256', 'mime', 'bytes', 'width', 'height', 'taken_at', 'gps', 'position', 'accuracy_m']);

/** The words and numbers a record carries, e.g. `进门前已敲门 · 供水 62 °C`, at most 160 characters. */
export function summary(v: unknown): string {
  const parts: string[] = [];
  const walk = (x: unknown, key: string) => {
    if (x === null || x === undefined || SKIP.has(key)) return;
    if (typeof x === 'string') {
      if (x.trim()) parts.push(x.trim());
    } else if (typeof x === 'number' || typeof x === 'boolean') {
      parts.push(key ? `${key} ${x}` : String(x));
    } else if (Array.isArray(x)) {
      x.forEach((y) => walk(y, key));
    } else if (typeof x === 'object') {
      for (const [k, y] of Object.entries(x)) walk(y, k);
    }
  };
  walk(v, '');
  const s = parts.join(' · ');
  return s.length > 160 ? `${s.slice(0, 159)}…` : s;
}
