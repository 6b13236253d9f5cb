import { describe, expect, it } from 'vitest';
import { ThumbnailCache, fileBytes, thumbMime } from './thumbnails';

describe('ThumbnailCache', () => {
  it('fetches each photo once however often it is shown', async () => {
    let fetches = 0;
    const cache = new ThumbnailCache(
      async () => {
        fetches++;
        return new Uint8Array([0xff, 0xd8, 0xff]).buffer;
      },
      (blob) => `blob:${blob.type}`,
    );
    const ref = { sha256: 'abc', mime: 'image/png' };
    expect(await cache.url(ref)).toBe('blob:image/jpeg');
    await cache.url(ref);
    expect(fetches).toBe(1);
  });
  it('retries a thumbnail whose fetch failed', async () => {
    let fail = true;
    const cache = new ThumbnailCache(async () => {
      if (fail) throw { code: 'not_found', message: 'x' };
      return new ArrayBuffer(1);
    }, () => 'blob:ok');
    await expect(cache.url({ sha256: 'x', mime: 'image/png' })).rejects.toMatchObject({ code: 'not_found' });
    fail = false;
    await new Promise((r) => setTimeout(r, 0));
    expect(await cache.url({ sha256: 'x', mime: 'image/png' })).toBe('blob:ok');
  });
  it('sniffs the thumbnail type and reads files as raw bytes', async () => {
    expect(thumbMime(new Uint8Array([0x89, 0x50, 0x4e, 0x47]).buffer, 'image/jpeg')).toBe('image/png');
    expect(thumbMime(new ArrayBuffer(2), 'image/webp')).toBe('image/webp');
    expect(await fileBytes(new Blob([new Uint8Array([1, 2, 3])]))).toEqual(new Uint8Array([1, 2, 3]));
  });
});
