import type { RouteOptions } from 'fastify';

type Hooks = Pick<RouteOptions, 'onRequest' | 'onResponse'>;
type Hook<K extends keyof Hooks> = Extract<NonNullable<Hooks[K]>, (...args: never[]) => unknown>;

/**
 * Adds a hook of the route's own, after any it already has (an onRoute hook calls this while the route is
 * registered): the hook then costs only the requests of that route, and can close over what the route
 * declared (its access, its path) instead of looking it up per request.
 */
export function appendRouteHook<K extends keyof Hooks>(route: Hooks, kind: K, hook: Hook<K>): void {
  const own = route[kind] === undefined ? [] : [route[kind]].flat();
  route[kind] = [...own, hook] as Hooks[K];
}
