// Test helper: the real <App> over the FakeBackend in jsdom, driven by hash routes and DOM events.
import { flushSync, mount, unmount } from 'svelte';
import App from '../App.svelte';
import { FakeBackend, type FakeOptions } from '../lib/backend/fake';
import { session } from '../lib/app/session.svelte';
import { setLang, setupI18n } from '../lib/i18n';
import { syncState } from '../lib/sync/syncStatus.svelte';

// jsdom has no canvas: give signature_pad a 2D context that draws nowhere.
export function stubCanvas(): void {
  const ctx = new Proxy({}, { get: (_t, k) => (k === 'canvas' ? undefined : () => ({ data: [] })), set: () => true });
  HTMLCanvasElement.prototype.getContext = (() => ctx) as unknown as HTMLCanvasElement['getContext'];
  HTMLCanvasElement.prototype.toBlob = function (cb: BlobCallback) {
    cb(new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])], { type: 'image/png' }));
  };
}

// jsdom does not scroll.
if (typeof window !== 'undefined') window.scrollTo = () => {};

export const settle = async (ms = 20) => {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, ms / 5));
    flushSync();
  }
};

export async function mountApp(hash: string, opts: FakeOptions = { signedIn: true, demo: true }) {
  setupI18n('zh-CN');
  setLang('zh-CN');
  session.current = undefined;
  syncState.dispose();
  syncState.status = null;
  location.hash = hash;
  const backend = new FakeBackend(opts);
  const target = document.createElement('div');
  document.body.replaceChildren(target);
  const app = mount(App, { target, props: { backend } });
  await settle(60);
  return {
    backend,
    target,
    async go(next: string) {
      location.hash = next;
      window.dispatchEvent(new HashChangeEvent('hashchange'));
      await settle(60);
    },
    byTestId(id: string): HTMLElement[] {
      return [...target.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)];
    },
    async click(el: Element | undefined) {
      if (!el) throw new Error('nothing to click');
      (el as HTMLElement).click();
      await settle(60);
    },
    async type(el: Element | undefined, text: string) {
      const input = el as HTMLInputElement | HTMLTextAreaElement;
      input.value = text;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      await settle();
    },
    destroy() {
      unmount(app);
      syncState.dispose();
    },
  };
}
