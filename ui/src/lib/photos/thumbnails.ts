// Thumbnails come from the backend as bytes; each becomes one blob URL, made once per hash and kept
// for the session (the same photo shows on several screens).
import type { AttachmentRef } from '../backend/types';

export class ThumbnailCache {
  private urls = new Map<string, Promise<string>>();
  constructor(
    private fetchBytes: (sha256: string) => Promise<ArrayBuffer>,
    private makeUrl: (blob: Blob) => string = (b) => URL.createObjectURL(b),
  ) {}

  url(ref: Pick<AttachmentRef, 'sha256' | 'mime'>): Promise<string> {
    let p = this.urls.get(ref.sha256);
    if (!p) {
      p = this.fetchBytes(ref.sha256).then((bytes) => this.makeUrl(new Blob([bytes], { type: thumbMime(bytes, ref.mime) })));
      // A failed fetch is forgotten so the next render retries.
      p.catch(() => this.urls.delete(ref.sha256));
      this.urls.set(ref.sha256, p);
    }
    return p;
  }
}

/** The thumbnail may be a JPEG of a PNG original: trust the bytes' magic number over the original's mime. */
export function thumbMime(bytes: ArrayBuffer, fallback: string): string {
  const b = new Uint8Array(bytes.slice(0, 4));
  if (b[0] === 0xff && b[1] === 0xd8) return 'image/jpeg';
  if (b[0] === 0x89 && b[1] === 0x50) return 'image/png';
  return fallback;
}

/** Reads a picked file as raw bytes for a raw-body IPC upload. */
export async function fileBytes(file: Blob): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}
