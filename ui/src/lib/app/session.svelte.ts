// Who is signed in, shared by the header and the views. `undefined` while the backend is asked.
import type { Session } from '../backend/types';
import type { BackendError } from '../backend/args';

class SessionState {
  current = $state<Session | null | undefined>(undefined);
}

export const session = new SessionState();

/** What every screen does with a backend error before showing it: a lost session goes to sign in. */
export function routeOnError(error: BackendError): void {
  if (error.code === 'not_signed_in') {
    session.current = null;
    if (typeof location !== 'undefined') location.hash = '#/login';
  }
}
