import { describe, expect, it } from 'vitest';
import zh from './zh-CN';
import en from './en';
import { FINDING_CATEGORIES, FINDING_STATES } from '../inspection/findings';
import { DEFECT_CATEGORIES, SEVERITIES } from '../patrol/defects';
import { JOB_KINDS } from '../jobs/jobs';

type Tree = { [k: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
  }
  return out;
}
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

const zhKeys = flatten(zh as unknown as Tree);
const enKeys = flatten(en as unknown as Tree);

// Every source file's text, through Vite (no Node APIs needed in the app's type world).
const sources = import.meta.glob(['/src/**/*.svelte', '/src/**/*.ts', '!/src/**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

describe('i18n catalogues', () => {
  it('has an English text for every Chinese key, and no English-only keys', () => {
    expect([...zhKeys.keys()].filter((k) => !enKeys.has(k))).toEqual([]);
    expect([...enKeys.keys()].filter((k) => !zhKeys.has(k))).toEqual([]);
  });
  it('uses the same placeholders in both languages', () => {
    const mismatched = [...zhKeys].filter(([k, v]) => placeholders(v).join() !== placeholders(enKeys.get(k) ?? '').join());
    expect(mismatched.map(([k]) => k)).toEqual([]);
  });
  it('has no empty texts', () => {
    expect([...zhKeys, ...enKeys].filter(([, v]) => !v.trim()).map(([k]) => k)).toEqual([]);
  });
  it('has a text for every key the source uses literally', () => {
    const used = new Set<string>();
    for (const text of Object.values(sources)) {
      for (const m of text.matchAll(/\$t\(\s*'([a-z0-9_.]+)'/g)) used.add(m[1]);
      for (const m of text.matchAll(/key: '((?:evidence|needs)\.[a-z_]+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((k) => !zhKeys.has(k))).toEqual([]);
  });
  it('names every job kind, finding category, defect category and severity', () => {
    const keys = [
      ...JOB_KINDS.map((k) => `kind.${k}`),
      ...FINDING_CATEGORIES.map((c) => `finding.cat.${c}`),
      ...Object.entries(FINDING_STATES).flatMap(([k, vs]) => [`finding.state.${k}`, ...vs.map((v) => `finding.state_${k}.${v}`)]),
      ...DEFECT_CATEGORIES.map((c) => `defect.cat.${c}`),
      ...SEVERITIES.map((s) => `defect.severity.${s}`),
      ...['done', 'due', 'late', 'missed'].map((s) => `patrol.state.${s}`),
      ...['queued', 'uploading', 'acknowledged', 'rejected'].map((s) => `outbox.state.${s}`),
      ...[1, 2, 3, 4, 5].map((n) => `rating.level_${n}`),
    ];
    expect(keys.filter((k) => !zhKeys.has(k))).toEqual([]);
  });
});
