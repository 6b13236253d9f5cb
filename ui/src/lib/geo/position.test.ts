import { describe, expect, it } from 'vitest';
import { PositionPrefetch, currentPosition, formatPosition, tauriGeoSource, type GeoSource } from './position';
import { ensurePermission } from './permission.svelte';
import { isMobileApp } from './platform';

describe('currentPosition', () => {
  it('returns the fix with the typed description', async () => {
    const geo: GeoSource = { getCurrentPosition: (ok) => ok({ coords: { latitude: 36.6512345678, longitude: 117.1201234567 } }) };
    const p = await currentPosition('和平路换热站北侧', geo);
    expect(p).toEqual({ lat: 36.651235, lon: 117.120123, description: '和平路换热站北侧' });
    expect(formatPosition(p)).toBe('36.65123, 117.12012');
  });
  it('keeps how accurate the fix is and when it was taken', async () => {
    const taken = Date.UTC(2026, 11, 2, 2, 30);
    const geo: GeoSource = { getCurrentPosition: (ok) => ok({ coords: { latitude: 36.65, longitude: 117.12, accuracy: 14.26 }, timestamp: taken }) };
    const p = await currentPosition('', geo);
    expect(p).toMatchObject({ accuracy_m: 14.3, fixed_at: new Date(taken).toISOString() });
    expect(formatPosition(p)).toBe('36.65000, 117.12000 ±14 m');
  });
  it('says why there is no fix: no GPS, refused, no signal, too slow', async () => {
    expect(await currentPosition('井室', undefined)).toEqual({ lat: null, lon: null, description: '井室', no_fix: 'unsupported' });
    const refused: GeoSource = { getCurrentPosition: (_ok, fail) => fail({ code: 1 }) };
    expect((await currentPosition('井室', refused)).no_fix).toBe('denied');
    const noSignal: GeoSource = { getCurrentPosition: (_ok, fail) => fail({ code: 2 }) };
    expect((await currentPosition('井室', noSignal)).no_fix).toBe('unavailable');
    const gaveUp: GeoSource = { getCurrentPosition: (_ok, fail) => fail({ code: 3 }) };
    expect((await currentPosition('井室', gaveUp)).no_fix).toBe('timeout');
    expect(formatPosition({ lat: null, lon: null, description: '' })).toBe('');
  });
  it('does not wait forever for a fix', async () => {
    const silent: GeoSource = { getCurrentPosition: () => {} };
    const p = await currentPosition('x', silent, 10);
    expect(p.lat).toBeNull();
    expect(p.no_fix).toBe('timeout');
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
    expect(await new PositionPrefetch(silent, 60_000).get('路口', 20)).toEqual({ lat: null, lon: null, description: '路口', no_fix: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('the phone GPS (Tauri geolocation plugin)', () => {
  type Call = string;
  const plugin = (location: string, calls: Call[]) => async <T>(name: string, command: string): Promise<T> => {
    calls.push(`${name}|${command}`);
    if (command === 'check_permissions') return { location } as T;
    if (command === 'request_permissions') return { location: 'granted' } as T;
    return { coords: { latitude: 45.7567, longitude: 126.6424, accuracy: 8 }, timestamp: 1_764_640_000_000 } as T;
  };

  it('explains why before the system asks, then takes the fix', async () => {
    const calls: Call[] = [];
    const explained: string[] = [];
    const geo = tauriGeoSource(plugin('prompt', calls), async (k) => (explained.push(k), true));
    const p = await currentPosition('到达', geo);
    expect(explained).toEqual(['location']);
    expect(calls).toEqual(['geolocation|check_permissions', 'geolocation|request_permissions', 'geolocation|get_current_position']);
    expect(p).toMatchObject({ lat: 45.7567, lon: 126.6424, accuracy_m: 8 });
  });

  it('records "denied" without asking for a fix when the user says no', async () => {
    const calls: Call[] = [];
    const p = await currentPosition('到达', tauriGeoSource(plugin('prompt', calls), async () => false));
    expect(p.no_fix).toBe('denied');
    expect(calls).toEqual(['geolocation|check_permissions']);
  });

  it('is used only inside the app on a phone', () => {
    expect(isMobileApp({ navigator: { userAgent: 'Mozilla/5.0 (Linux; Android 14)' } })).toBe(false);
    expect(isMobileApp({ __TAURI_INTERNALS__: {}, navigator: { userAgent: 'Mozilla/5.0 (Linux; Android 14)' } })).toBe(true);
    expect(isMobileApp({ __TAURI_INTERNALS__: {}, navigator: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' } })).toBe(false);
  });
});

describe('ensurePermission', () => {
  it('never explains what is already granted, and never asks again what was denied', async () => {
    let explained = 0;
    const explain = async () => (explained++, true);
    expect(await ensurePermission('camera', async () => 'granted', async () => 'denied', explain)).toBe(true);
    expect(await ensurePermission('camera', async () => 'denied', async () => 'granted', explain)).toBe(false);
    expect(explained).toBe(0);
    expect(await ensurePermission('camera', async () => 'prompt-with-rationale', async () => 'granted', explain)).toBe(true);
    expect(explained).toBe(1);
  });
});
