// The fake walks copies of the core's checklists (fake-templates/). When the core's templates change
// shape — steps, order, evidence kinds and keys, skippable and when, conditions — this fails so
// the copies (and the screens' assumptions) are brought along. Phrases and labels may change freely.
import { describe, expect, it } from 'vitest';
import { TEMPLATES } from './fake';

const core = import.meta.glob('../../../../crates/rules/templates/*.json', { eager: true, import: 'default' }) as Record<string, unknown>;

type T = { id: string; version: number; incidents: string[]; steps: { id: string; skippable: boolean; when?: string; skip_only_if?: unknown; evidence: { type: string; key?: string; min?: number }[] }[] };
const shape = (t: T) => ({
  id: t.id,
  version: t.version,
  incidents: t.incidents,
  steps: t.steps.map((s) => ({ id: s.id, skippable: s.skippable, when: s.when ?? null, skip_only_if: s.skip_only_if ?? null, evidence: s.evidence.map((e) => [e.type, e.key ?? null, e.min ?? null]) })),
});

describe('fake templates', () => {
  const coreTemplates = Object.values(core) as T[];
  it('have the structure of the rules crate’s templates', () => {
    // An empty glob means the templates moved: fail rather than check nothing.
    expect(coreTemplates.length, 'templates found in crates/rules/templates').toBeGreaterThan(0);
    const newest = new Map<string, T>();
    for (const t of coreTemplates) if ((newest.get(t.id)?.version ?? 0) < t.version) newest.set(t.id, t);
    for (const t of newest.values()) {
      const mine = Object.values(TEMPLATES).find((x) => x.id === t.id);
      expect(mine, `a copy of ${t.id} in fake-templates/`).toBeDefined();
      expect(shape(mine as unknown as T)).toEqual(shape(t));
    }
  });
  it('only use evidence kinds the UI knows how to show', () => {
    const known = new Set(['photos', 'text', 'choice', 'readings', 'signature', 'rating', 'contact_card', 'confirm', 'notice', 'checkpoints']);
    const used = Object.values(TEMPLATES).flatMap((t) => t.steps.flatMap((s) => s.evidence.map((e) => e.type)));
    expect(used.filter((k) => !known.has(k))).toEqual([]);
  });
});
