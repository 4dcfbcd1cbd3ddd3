/**
 * The one source of the current time. The composition root (src/server.ts) passes `systemClock` to every part
 * that reads the time (requests, the identity provider's key cooldown, outage reports, the metrics cache,
 * retention); tests pass a settable one (test/helpers.ts `testClock`) and move it instead of waiting.
 *
 * Timeouts (a database lock wait, a fetch that gives up, the revocation fence's lease) are not readings of the
 * time but waits, and run on Node's timers and monotonic clock: docs/design.md, "One clock".
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
