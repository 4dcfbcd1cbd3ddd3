import { Type } from 'typebox';
import type { Store, StoreFault } from '../../domain/store.ts';
import { sendError } from '../envelope.ts';
import { answerFault, sendFault } from '../errors.ts';
import type { StoreFaults } from '../store-faults.ts';
import type { App } from './context.ts';

const Status = Type.Object({ status: Type.String({ examples: ['ok'] }) });

/** A readiness check never waits longer than this for the store. */
const READY_DEADLINE_MS = 2000;

/** The store's ping, or a timeout fault once the deadline has passed. */
async function pingWithin(store: Store, ms: number): Promise<{ fault: StoreFault | undefined; error: unknown } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), ms); });
  try {
    if (await Promise.race([store.ping(), late]) === 'late') {
      return { fault: { kind: 'timeout', detail: `readiness check: no answer within ${ms} ms` }, error: undefined };
    }
    return undefined;
  } catch (error) {
    return { fault: store.describeFault(error), error };
  } finally {
    clearTimeout(timer);
  }
}

/** Unauthenticated and not rate limited: load balancers poll these. */
export function healthRoutes(app: App, store: Store, faults: StoreFaults, isDraining: () => boolean) {
  app.get('/healthz', {
    schema: { summary: 'Liveness: the process is up', tags: ['operations'], response: { 200: Status } },
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: {
      summary: 'Readiness: the store answers and no database fault is going on', tags: ['operations'],
      response: { 200: Status },
    },
  }, async (request, reply) => {
    if (isDraining()) return sendError(reply, 'not_ready', 'shutting down');
    const failed = await pingWithin(store, READY_DEADLINE_MS);
    if (failed?.fault) return sendFault(reply, faults, failed.fault, failed.error);
    if (failed) {
      request.log.error({ err: failed.error }, 'readiness check: store unreachable');
      return sendError(reply, 'not_ready', 'store unreachable');
    }
    // The store answered (and on SQLite the write lock could be had): those incidents are over.
    faults.recovered(['unavailable', 'timeout', 'locked']);
    const going = faults.current();
    if (going) return answerFault(reply, going);
    return { status: 'ok' };
  });
}
