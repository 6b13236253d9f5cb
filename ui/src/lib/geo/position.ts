// Position is optional everywhere: a basement has no fix and a desktop has no GPS. Ask once, briefly,
// and fall back to the typed description.
import type { Position } from '../backend/types';

export interface GeoSource {
  getCurrentPosition(ok: (p: { coords: { latitude: number; longitude: number } }) => void, fail: (e: unknown) => void, opts?: object): void;
}

export function currentPosition(
  description: string,
  geo: GeoSource | undefined = globalThis.navigator?.geolocation,
  timeoutMs = 8_000,
): Promise<Position> {
  const fallback: Position = { lat: null, lon: null, description };
  if (!geo) return Promise.resolve(fallback);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), timeoutMs + 500);
    try {
      geo.getCurrentPosition(
        (p) => {
          clearTimeout(timer);
          resolve({ lat: round6(p.coords.latitude), lon: round6(p.coords.longitude), description });
        },
        () => {
          clearTimeout(timer);
          resolve(fallback);
        },
        { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 60_000 },
      );
    } catch {
      clearTimeout(timer);
      resolve(fallback);
    }
  });
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

export function formatPosition(p: Position): string {
  return p.lat !== null && p.lon !== null ? `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}` : '';
}

/**
 * Asks for a fix as soon as a screen opens, so that confirming ("arrived", "report now") never waits
 * long for GPS: `get` returns whatever the lookup has by then, or no coordinates after `maxWaitMs`.
 */
export class PositionPrefetch {
  private pending: Promise<Position>;
  constructor(geo: GeoSource | undefined = globalThis.navigator?.geolocation, timeoutMs = 10_000) {
    this.pending = currentPosition('', geo, timeoutMs);
  }
  async get(description: string, maxWaitMs = 1_500): Promise<Position> {
    const none: Position = { lat: null, lon: null, description };
    const timer = new Promise<Position>((r) => setTimeout(() => r(none), maxWaitMs));
    const p = await Promise.race([this.pending, timer]);
    return { ...p, description };
  }
}
