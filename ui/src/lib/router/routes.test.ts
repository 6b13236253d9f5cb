import { describe, expect, it } from 'vitest';
import { parseRoute, routeHash, type Route } from './routes';

describe('routes', () => {
  const all: Route[] = [
    { name: 'login' },
    { name: 'today' },
    { name: 'outbox' },
    { name: 'accident' },
    { name: 'job', jobId: 'j-1' },
    { name: 'step', jobId: 'j-1', stepId: 'diagnose_repair' },
    { name: 'damage', jobId: 'j-1', which: 'network' },
    { name: 'close', jobId: 'j-1' },
    { name: 'checkpoint', jobId: 'p/1', checkpointId: 'head station' },
    { name: 'defect', jobId: 'p1', checkpointId: null },
    { name: 'defect', jobId: 'p1', checkpointId: 'ss-2' },
  ];
  it('round-trips every route through the hash, ids with odd characters included', () => {
    for (const r of all) expect(parseRoute(routeHash(r))).toEqual(r);
  });
  it('falls back to today for empty or unknown hashes', () => {
    expect(parseRoute('')).toEqual({ name: 'today' });
    expect(parseRoute('#/nowhere')).toEqual({ name: 'today' });
    expect(parseRoute('#/job')).toEqual({ name: 'today' });
    expect(parseRoute('#/job/x/damage/other')).toEqual({ name: 'job', jobId: 'x' });
  });
});
