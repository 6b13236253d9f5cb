// The production entry must use the Tauri backend and nothing else: the fake backend and the demo
// data are for Vitest and preview.html only (and so never end up in ui/dist).
import { describe, expect, it } from 'vitest';

const sources = import.meta.glob(['/src/**/*.ts', '/src/**/*.svelte', '!/src/**/*.test.ts', '!/src/test/**'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;
const html = import.meta.glob(['/index.html', '/preview.html'], { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

/** Files reachable from `start` through relative imports. */
function reachable(start: string): Set<string> {
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file) || !(file in sources)) continue;
    seen.add(file);
    for (const m of sources[file].matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)) {
      const base = new URL(m[1], `file://${file}`).pathname;
      for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) if (candidate in sources) queue.push(candidate);
    }
  }
  return seen;
}

describe('entries', () => {
  it('index.html loads main.ts and preview.html loads preview.ts', () => {
    expect(html['/index.html']).toContain('src="/src/main.ts"');
    expect(html['/preview.html']).toContain('src="/src/preview.ts"');
  });
  it('the production entry reaches the Tauri backend and never the fake', () => {
    const files = reachable('/src/main.ts');
    expect(files.has('/src/lib/backend/tauri.ts')).toBe(true);
    expect(files.has('/src/App.svelte')).toBe(true);
    expect([...files].filter((f) => /fake|preview/.test(f))).toEqual([]);
  });
});
