import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { type Bindings, type ChildLoggerOptions, levels } from 'pino';

/**
 * `request.log`: the child logger that carries the request id, made only when the request logs something.
 * Fastify's own makes a pino child for every request (its bindings serialized each time), though almost no
 * request writes a line through it: the one line per answer is written by registerRequestLog, with the
 * request id in it.
 */
class RequestLogger {
  #child: FastifyBaseLogger | undefined;
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #real(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  // Reading the level makes no child: the child's is the parent's until a child sets its own.
  get level() { return this.#child?.level ?? this.#parent.level; }
  set level(level: string) { this.#real().level = level; }
  fatal(...args: Parameters<FastifyBaseLogger['fatal']>) { this.#real().fatal(...args); }
  error(...args: Parameters<FastifyBaseLogger['error']>) { this.#real().error(...args); }
  warn(...args: Parameters<FastifyBaseLogger['warn']>) { this.#real().warn(...args); }
  info(...args: Parameters<FastifyBaseLogger['info']>) { this.#real().info(...args); }
  debug(...args: Parameters<FastifyBaseLogger['debug']>) { this.#real().debug(...args); }
  trace(...args: Parameters<FastifyBaseLogger['trace']>) { this.#real().trace(...args); }
  silent(...args: Parameters<FastifyBaseLogger['silent']>) { this.#real().silent(...args); }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger { return this.#real().child(bindings, options); }
}

/** Fastify's `childLoggerFactory`: a RequestLogger in place of a pino child per request. */
export function requestLogger(this: unknown, parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(parent, bindings, options);
}

/**
 * One line per answer, at `info`, written when the answer has gone out: the request id, the request (its
 * URL's secrets taken out by the logger's serializer, src/logger.ts), the status and the time taken. Fastify's
 * own request logging (a line when a request comes in and another when it is answered) is off (app.ts).
 * Below `info` no hook is added at all.
 */
export function registerRequestLog(app: FastifyInstance, logger: FastifyBaseLogger) {
  if ((levels.values[logger.level] ?? 0) > levels.values.info!) return;
  app.addHook('onResponse', (request, reply, done) => {
    logger.info({ reqId: request.id, req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed');
    done();
  });
}
