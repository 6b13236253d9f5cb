// History routing for the console's few screens; the office serves index.html for every path
// without a file extension, so a reload or a shared link opens the same screen.
export type Route =
  | { name: 'board' }
  | { name: 'new_job' }
  | { name: 'job'; id: string }
  | { name: 'users' }
  | { name: 'devices' }
  | { name: 'outages' }
  | { name: 'audit' }
  | { name: 'security' }
  | { name: 'settings' }
  | { name: 'feedback' }
  | { name: 'kpi' }
  | { name: 'complaints' }
  | { name: 'complaint_new' }
  | { name: 'complaint'; id: string }
  | { name: 'notices' }
  | { name: 'patrols' }
  | { name: 'defects' };

export function parse(path: string): Route {
  const job = /^\/jobs\/([0-9a-fA-F-]{36})\/?$/.exec(path);
  if (job) return { name: 'job', id: job[1].toLowerCase() };
  const complaint = /^\/complaints\/([0-9a-fA-F-]{36})\/?$/.exec(path);
  if (complaint) return { name: 'complaint', id: complaint[1].toLowerCase() };
  switch (path.replace(/\/$/, '')) {
    case '/new':
      return { name: 'new_job' };
    case '/users':
      return { name: 'users' };
    case '/devices':
      return { name: 'devices' };
    case '/outages':
      return { name: 'outages' };
    case '/audit':
      return { name: 'audit' };
    case '/security':
      return { name: 'security' };
    case '/settings':
      return { name: 'settings' };
    case '/feedback':
      return { name: 'feedback' };
    case '/kpi':
      return { name: 'kpi' };
    case '/complaints':
      return { name: 'complaints' };
    case '/complaints/new':
      return { name: 'complaint_new' };
    case '/notices':
      return { name: 'notices' };
    case '/patrols':
      return { name: 'patrols' };
    case '/defects':
      return { name: 'defects' };
    default:
      return { name: 'board' };
  }
}

class Router {
  path = $state(typeof location === 'undefined' ? '/' : location.pathname + location.search);

  get route(): Route {
    return parse(this.path.split('?')[0]);
  }

  /** The query parameter `key` of the current path. */
  param(key: string): string | null {
    return new URLSearchParams(this.path.split('?')[1] ?? '').get(key);
  }

  go(path: string, replace = false) {
    if (replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    this.path = path;
  }

  listen() {
    addEventListener('popstate', () => (this.path = location.pathname + location.search));
  }
}

export const router = new Router();
