// Before the phone asks for location or the camera, the app says why, in the user's language
// (zh-CN first): a permission asked without a reason is refused, and a refused one is hard to undo.
// `explain` opens PermissionPrompt.svelte and resolves with the user's answer.
import type { PermissionState } from './platform';

export type PermissionKind = 'location' | 'camera';

class PermissionAsk {
  current = $state<{ kind: PermissionKind; answer: (go: boolean) => void } | null>(null);

  /** Shows why `kind` is needed; true when the user chose to go on to the system's question. */
  explain(kind: PermissionKind): Promise<boolean> {
    this.current?.answer(false);
    return new Promise((resolve) => {
      this.current = {
        kind,
        answer: (go) => {
          this.current = null;
          resolve(go);
        },
      };
    });
  }
}

export const permissionAsk = new PermissionAsk();

/**
 * Makes sure a plugin permission is granted: already granted goes on; one the system would ask
 * for is explained first, then requested; a refusal (ours or the system's) answers false.
 */
export async function ensurePermission(
  kind: PermissionKind,
  check: () => Promise<PermissionState>,
  request: () => Promise<PermissionState>,
  explain: (kind: PermissionKind) => Promise<boolean> = (k) => permissionAsk.explain(k),
): Promise<boolean> {
  const state = await check();
  if (state === 'granted') return true;
  if (state === 'denied') return false;
  if (!(await explain(kind))) return false;
  return (await request()) === 'granted';
}
