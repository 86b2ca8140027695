// Helpers for tests/common/scale.rs: watching many jobs at once.

/**
 * A middleware that counts the status requests of the jobs it is attached to: how many are in
 * flight at once (`max`) and in all (`calls`). The watcher sends each job's poll through that
 * job's own middleware, so it sees every status request the SDK makes for them.
 */
export function statusCounter() {
  const stats = { inFlight: 0, max: 0, calls: 0 };
  const middleware = {
    name: 'status-counter',
    async execute(next, ctx) {
      if (ctx.operation !== 'status') return next();
      stats.calls += 1;
      stats.inFlight += 1;
      stats.max = Math.max(stats.max, stats.inFlight);
      try {
        return await next();
      } finally {
        stats.inFlight -= 1;
      }
    },
  };
  return { middleware, stats };
}

/** JSON.parse, for generated status bodies. */
export function parseJson(text) {
  return JSON.parse(text);
}
