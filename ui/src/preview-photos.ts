// DEV-ONLY (preview.html): stand-in "photos" as small SVG pictures so thumbnails show in screenshots.
import type { FakeBackend } from './lib/backend/fake';

const picture = (bg: string, label: string) =>
  new TextEncoder().encode(
    `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><rect width="320" height="240" fill="${bg}"/>` +
      `<circle cx="250" cy="60" r="30" fill="#fff8"/><rect x="30" y="120" width="260" height="80" rx="8" fill="#0004"/>` +
      `<text x="40" y="170" font-size="34" fill="#fff" font-family="sans-serif">${label}</text></svg>`,
  );

export async function demoPhotos(backend: FakeBackend, add: boolean): Promise<void> {
  if (!add) return;
  await backend.addPhoto('job-repair-2', 'diagnose_repair', picture('#8a5a2b', 'before'));
  await backend.addPhoto('job-repair-2', 'diagnose_repair', picture('#2b6a8a', 'after'));
}
