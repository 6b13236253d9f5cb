import { describe, expect, it } from 'vitest';
import { normalizeCode, plausibleCode, scanCode } from './stationCode';

type Calls = { command: string; args?: Record<string, unknown> }[];
function plugin(camera: string, content: string | null, calls: Calls) {
  return async <T>(name: string, command: string, args?: Record<string, unknown>): Promise<T> => {
    calls.push({ command: `${name}|${command}`, args });
    if (command === 'check_permissions') return { camera } as T;
    if (command === 'request_permissions') return { camera: 'granted' } as T;
    if (content === null) throw new Error('cancelled');
    return { content } as T;
  };
}

describe('station codes', () => {
  it('are compared as typed on a plate: case, spaces and dashes do not matter', () => {
    expect(normalizeCode(' hc7k-3m9q ')).toBe('HC7K3M9Q');
    expect(plausibleCode('7K3M-9Q2P')).toBe(true);
    expect(plausibleCode('12')).toBe(false);
    expect(plausibleCode('站点码')).toBe(false);
  });

  it('explains the camera before the system asks, and scans once allowed', async () => {
    const calls: Calls = [];
    const explained: string[] = [];
    const got = await scanCode(plugin('prompt', '7K3M-9Q2P', calls), async (k) => (explained.push(k), true));
    expect(explained).toEqual(['camera']);
    expect(calls.map((c) => c.command)).toEqual(['barcode-scanner|check_permissions', 'barcode-scanner|request_permissions', 'barcode-scanner|scan']);
    expect(got).toEqual({ code: '7K3M-9Q2P', method: 'scanned' });
  });

  it('never opens the camera when the user declines the explanation or has denied it', async () => {
    const calls: Calls = [];
    expect(await scanCode(plugin('prompt', 'X', calls), async () => false)).toBeNull();
    expect(await scanCode(plugin('denied', 'X', calls), async () => true)).toBeNull();
    expect(calls.some((c) => c.command.endsWith('|scan'))).toBe(false);
  });

  it('a closed scanner is no code, not an error', async () => {
    expect(await scanCode(plugin('granted', null, []), async () => true)).toBeNull();
  });
});
