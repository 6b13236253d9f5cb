// The Backend is handed to <App> by the entry point and reached from any component through context,
// so no component imports an implementation.
import { getContext, setContext } from 'svelte';
import type { Backend } from './backend';

const KEY = Symbol('backend');

export function provideBackend(backend: Backend): void {
  setContext(KEY, backend);
}

export function useBackend(): Backend {
  const b = getContext<Backend | undefined>(KEY);
  if (!b) throw new Error('no Backend in context: mount <App> with a backend');
  return b;
}
