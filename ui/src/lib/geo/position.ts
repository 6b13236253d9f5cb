// Position is optional everywhere: a basement has no fix and a desktop has no GPS. Ask once, briefly;
// a record gets the fix with its accuracy and time, or says why there is none (`no_fix`), and the
// typed description either way. On a phone the Tauri geolocation plugin answers (after the app has
// said why it wants location); elsewhere the WebView's navigator.geolocation.
import type { NoFix, Position } from '../backend/types';
import { ensurePermission } from './permission.svelte';
import { isMobileApp, pluginCall, type PermissionState } from './platform';

/** A fix as navigator.geolocation and the Tauri plugin both give it. */
export interface RawFix {
  coords: { latitude: number; longitude: number; accuracy?: number | null };
  timestamp?: number;
}

export interface GeoSource {
  getCurrentPosition(ok: (p: RawFix) => void, fail: (e: unknown) => void, opts?: object): void;
}

/** The reason for a failed lookup, from a GeolocationPositionError code (1 denied, 2 unavailable, 3 timeout). */
export function noFixReason(e: unknown): NoFix {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 1 ? 'denied' : code === 3 ? 'timeout' : 'unavailable';
}

export function currentPosition(description: string, geo: GeoSource | undefined = defaultGeoSource(), timeoutMs = 8_000): Promise<Position> {
  const none = (no_fix: NoFix): Position => ({ lat: null, lon: null, description, no_fix });
  if (!geo) return Promise.resolve(none('unsupported'));
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(none('timeout')), timeoutMs + 500);
    const done = (p: Position) => {
      clearTimeout(timer);
      resolve(p);
    };
    try {
      geo.getCurrentPosition(
        (p) => done(fromRaw(p, description)),
        (e) => done(none(noFixReason(e))),
        { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 60_000 },
      );
    } catch (e) {
      done(none(noFixReason(e)));
    }
  });
}

function fromRaw(p: RawFix, description: string): Position {
  const out: Position = { lat: round6(p.coords.latitude), lon: round6(p.coords.longitude), description };
  const acc = p.coords.accuracy;
  if (typeof acc === 'number' && Number.isFinite(acc) && acc >= 0) out.accuracy_m = Math.round(acc * 10) / 10;
  if (typeof p.timestamp === 'number' && Number.isFinite(p.timestamp)) out.fixed_at = new Date(p.timestamp).toISOString();
  return out;
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

export function formatPosition(p: Position): string {
  if (p.lat === null || p.lon === null) return '';
  const at = `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}`;
  return p.accuracy_m !== undefined ? `${at} ±${Math.round(p.accuracy_m)} m` : at;
}

/**
 * The phone's GPS through the Tauri geolocation plugin: permission explained, then asked; a
 * refusal is reported as code 1 (denied) like the browser API does.
 */
export function tauriGeoSource(call: typeof pluginCall = pluginCall, explain?: Parameters<typeof ensurePermission>[3]): GeoSource {
  return {
    getCurrentPosition(ok, fail, opts) {
      const state = (r: { location?: PermissionState }) => r.location ?? 'denied';
      ensurePermission(
        'location',
        () => call<{ location?: PermissionState }>('geolocation', 'check_permissions').then(state),
        () => call<{ location?: PermissionState }>('geolocation', 'request_permissions', { permissions: ['location'] }).then(state),
        explain,
      )
        .then((granted) => {
          if (!granted) return fail({ code: 1 });
          return call<RawFix>('geolocation', 'get_current_position', { options: opts ?? {} }).then(ok);
        })
        .catch((e) => fail(e));
    },
  };
}

/** The plugin on a phone, the WebView's geolocation elsewhere (undefined when there is none). */
export function defaultGeoSource(): GeoSource | undefined {
  if (isMobileApp()) return tauriGeoSource();
  return globalThis.navigator?.geolocation;
}

/**
 * Asks for a fix as soon as a screen opens, so that confirming ("arrived", "report now") never waits
 * long for GPS: `get` returns whatever the lookup has by then, or no coordinates (`timeout`) after `maxWaitMs`.
 */
export class PositionPrefetch {
  private pending: Promise<Position>;
  constructor(geo: GeoSource | undefined = defaultGeoSource(), timeoutMs = 10_000) {
    this.pending = currentPosition('', geo, timeoutMs);
  }
  async get(description: string, maxWaitMs = 1_500): Promise<Position> {
    const none: Position = { lat: null, lon: null, description, no_fix: 'timeout' };
    const timer = new Promise<Position>((r) => setTimeout(() => r(none), maxWaitMs));
    const p = await Promise.race([this.pending, timer]);
    return { ...p, description };
  }
}
