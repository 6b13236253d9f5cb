import type { Backend } from '../backend/backend';
import { ThumbnailCache } from './thumbnails';

const caches = new WeakMap<Backend, ThumbnailCache>();

export function thumbnailsFor(backend: Backend): ThumbnailCache {
  let c = caches.get(backend);
  if (!c) {
    c = new ThumbnailCache((sha) => backend.thumbnail(sha));
    caches.set(backend, c);
  }
  return c;
}
