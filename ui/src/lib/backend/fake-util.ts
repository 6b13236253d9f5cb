// Helpers of the in-memory fake backend (fake.ts): errors, hashes, image sniffing, the push order.
// For Vitest and the dev-only preview page only, like fake.ts.
import type { ErrorCode, Lang } from './types';
import type { BackendError } from './args';

export function err(code: ErrorCode, zh: string, en: string, lang: Lang): BackendError {
  return { code, message: lang === 'en' ? en : zh };
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function sniffImage(bytes: Uint8Array): string | null {
  const b = bytes;
  if (b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b.length > 12 && b[0] === 0x52 && b[1] === 0x49 && b[8] === 0x57 && b[9] === 0x45) return 'image/webp';
  const head = new TextDecoder().decode(b.slice(0, 64)).trimStart();
  if (head.startsWith('<svg')) return 'image/svg+xml';
  return null;
}

/** What crossing IPC does to an argument: a JSON copy (also strips Svelte's reactive proxies). */
export const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** The batches the core pushes queued records in (heatcrew-core `sync/mod.rs` `push_all`): the chain
 *  up to the last urgent record (an accident report) first, as its own batch, because the office
 *  takes a device's records only in `device_seq` order; then the rest. Urgent records never jump the
 *  chain: the records before one go with it. */
export function pushOrder(queued: number[], urgent: ReadonlySet<number>): number[][] {
  const seqs = [...queued].sort((a, b) => a - b);
  const last = Math.max(-Infinity, ...seqs.filter((s) => urgent.has(s)));
  const first = seqs.filter((s) => s <= last);
  const rest = seqs.filter((s) => s > last);
  return [first, rest].filter((b) => b.length > 0);
}

