import { describe, expect, it } from 'vitest';
import { PositionPrefetch, currentPosition, formatPosition, type GeoSource } from './position';

describe('currentPosition', () => {
  it('returns the fix with the typed description', async () => {
    const geo: GeoSource = { getCurrentPosition: (ok) => ok({ coords: { latitude: 36.6512345678, longitude: 117.1201234567 } }) };
    const p = await currentPosition('和平路换热站北侧', geo);
    expect(p).toEqual({ lat: 36.651235, lon: 117.120123, description: '和平路换热站北侧' });
    expect(formatPosition(p)).toBe('36.65123, 117.12012');
  });
  it('falls back to the description alone when there is no GPS or it is refused', async () => {
    expect(await currentPosition('井室', undefined)).toEqual({ lat: null, lon: null, description: '井室' });
    const refused: GeoSource = { getCurrentPosition: (_ok, fail) => fail(new Error('denied')) };
    expect(await currentPosition('井室', refused)).toEqual({ lat: null, lon: null, description: '井室' });
    expect(formatPosition({ lat: null, lon: null, description: '' })).toBe('');
  });
  it('does not wait forever for a fix', async () => {
    const silent: GeoSource = { getCurrentPosition: () => {} };
    expect((await currentPosition('x', silent, 10)).lat).toBeNull();
  });
});

describe('PositionPrefetch', () => {
  it('uses a fix that arrived while the technician was typing', async () => {
    const geo: GeoSource = { getCurrentPosition: (ok) => ok({ coords: { latitude: 36.65, longitude: 117.12 } }) };
    const p = new PositionPrefetch(geo);
    expect(await p.get('3 号井', 10)).toEqual({ lat: 36.65, lon: 117.12, description: '3 号井' });
  });
  it('does not hold up a confirmation when there is no fix yet', async () => {
    const silent: GeoSource = { getCurrentPosition: () => {} };
    const started = Date.now();
    expect(await new PositionPrefetch(silent, 60_000).get('路口', 20)).toEqual({ lat: null, lon: null, description: '路口' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
