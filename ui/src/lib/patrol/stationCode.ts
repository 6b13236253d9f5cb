// The code posted at a patrol station: scanned with the phone's camera (Tauri barcode-scanner
// plugin, phones only) or typed from the plate on the desktop. The core checks it against the
// station's digest and refuses a wrong one (`wrong_checkpoint_code`); the office checks it again.
import type { CodeEntry } from '../backend/types';
import { ensurePermission, type PermissionKind } from '../geo/permission.svelte';
import { isMobileApp, pluginCall, type PermissionState } from '../geo/platform';

/** As a person may type it: spaces and dashes dropped, upper case (the core normalizes the same way). */
export function normalizeCode(code: string): string {
  return code.replace(/[\s-]+/g, '').toUpperCase();
}

/** A code worth sending: 4 to 32 letters and digits once normalized. */
export function plausibleCode(code: string): boolean {
  return /^[A-Z0-9]{4,32}$/.test(normalizeCode(code));
}

/** Whether this device can scan (a phone with the barcode plugin). */
export function canScan(): boolean {
  return isMobileApp();
}

export interface Scanned {
  code: string;
  method: CodeEntry;
}

/**
 * Opens the camera scanner after explaining why the camera is needed; null when the user said no
 * or closed the scanner.
 */
export async function scanCode(
  call: typeof pluginCall = pluginCall,
  explain?: (kind: PermissionKind) => Promise<boolean>,
): Promise<Scanned | null> {
  const granted = await ensurePermission(
    'camera',
    () => call<{ camera?: PermissionState }>('barcode-scanner', 'check_permissions').then((r) => r.camera ?? 'denied'),
    () => call<{ camera?: PermissionState }>('barcode-scanner', 'request_permissions').then((r) => r.camera ?? 'denied'),
    explain,
  );
  if (!granted) return null;
  try {
    const r = await call<{ content?: string }>('barcode-scanner', 'scan', { windowed: false, formats: ['QR_CODE', 'CODE_128'] });
    return r.content ? { code: r.content.trim(), method: 'scanned' } : null;
  } catch {
    return null;
  }
}
