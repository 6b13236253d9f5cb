// A hash router (#/today, #/job/<id>/step/<step>, …): no server, works from the Tauri asset protocol
// and from a plain static preview, and the back button of Android works for free.
export type Route =
  | { name: 'login' }
  | { name: 'today' }
  | { name: 'outbox' }
  | { name: 'accident' }
  | { name: 'job'; jobId: string }
  | { name: 'step'; jobId: string; stepId: string }
  | { name: 'damage'; jobId: string; which: 'property' | 'network' }
  | { name: 'close'; jobId: string }
  | { name: 'checkpoint'; jobId: string; checkpointId: string }
  | { name: 'defect'; jobId: string; checkpointId: string | null }
  | { name: 'door'; jobId: string }
  | { name: 'ready'; jobId: string };

export function parseRoute(hash: string): Route {
  const parts = hash
    .replace(/^#\/?/, '')
    .split('?')[0]
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  const [a, b, c, d] = parts;
  switch (a) {
    case 'login':
      return { name: 'login' };
    case 'outbox':
      return { name: 'outbox' };
    case 'accident':
      return { name: 'accident' };
    case 'job':
      if (!b) break;
      if (!c) return { name: 'job', jobId: b };
      if (c === 'step' && d) return { name: 'step', jobId: b, stepId: d };
      if (c === 'damage' && (d === 'property' || d === 'network')) return { name: 'damage', jobId: b, which: d };
      if (c === 'close') return { name: 'close', jobId: b };
      if (c === 'checkpoint' && d) return { name: 'checkpoint', jobId: b, checkpointId: d };
      if (c === 'defect') return { name: 'defect', jobId: b, checkpointId: d ?? null };
      if (c === 'door') return { name: 'door', jobId: b };
      if (c === 'ready') return { name: 'ready', jobId: b };
      return { name: 'job', jobId: b };
  }
  return { name: 'today' };
}

export function routeHash(route: Route): string {
  const e = encodeURIComponent;
  switch (route.name) {
    case 'login':
    case 'today':
    case 'outbox':
    case 'accident':
      return `#/${route.name}`;
    case 'job':
      return `#/job/${e(route.jobId)}`;
    case 'step':
      return `#/job/${e(route.jobId)}/step/${e(route.stepId)}`;
    case 'damage':
      return `#/job/${e(route.jobId)}/damage/${route.which}`;
    case 'close':
      return `#/job/${e(route.jobId)}/close`;
    case 'checkpoint':
      return `#/job/${e(route.jobId)}/checkpoint/${e(route.checkpointId)}`;
    case 'defect':
      return route.checkpointId ? `#/job/${e(route.jobId)}/defect/${e(route.checkpointId)}` : `#/job/${e(route.jobId)}/defect`;
    case 'door':
      return `#/job/${e(route.jobId)}/door`;
    case 'ready':
      return `#/job/${e(route.jobId)}/ready`;
  }
}
