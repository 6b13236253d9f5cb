// Which phone hardware this build can reach. The geolocation and barcode-scanner plugins are
// registered only on phones (src-tauri/src/lib.rs, cfg(mobile)); on the desktop the WebView's own
// geolocation stands in for GPS and station codes are typed.
import { invoke } from '@tauri-apps/api/core';

/** The app runs inside Tauri on Android or iOS (the mobile plugins are there). */
export function isMobileApp(g: { navigator?: { userAgent?: string }; __TAURI_INTERNALS__?: unknown } = globalThis): boolean {
  return '__TAURI_INTERNALS__' in g && /Android|iPhone|iPad|iPod/i.test(g.navigator?.userAgent ?? '');
}

/** A plugin permission as the Tauri plugins report it. */
export type PermissionState = 'granted' | 'denied' | 'prompt' | 'prompt-with-rationale';

/** Calls a mobile plugin command (`plugin:<name>|<command>`). */
export function pluginCall<T>(plugin: string, command: string, args?: Record<string, unknown>): Promise<T> {
  return invoke<T>(`plugin:${plugin}|${command}`, args);
}
