// Helpers for tests/common/plugins.rs: JS plugin objects, fake clocks and sinks, as a user writes them.
export function tracePlugin(name, priority, log, extra) {
  const p = { name, version: '1.0.0', priority };
  for (const hook of ['onInit', 'onBuild', 'onSubmit', 'onRequest', 'onResponse', 'onResult', 'onDestroy']) {
    p[hook] = () => { log.push(`${name}:${hook}`); };
  }
  return Object.assign(p, extra ?? {});
}
export function asyncRequestPlugin(name, log) {
  return { name, async onRequest() { await new Promise((r) => setTimeout(r, 30)); log.push(`${name}:late`); } };
}
export function argPlugin(arg) {
  return { name: 'args', onSubmit(spec) { return { ...spec, args: [...spec.args, arg] }; } };
}
export function throwingPlugin(name, policy, hook) {
  return { name, policy, [hook]() { throw new Error(`${name} broke in ${hook}`); } };
}
export function recoveringPlugin(body) {
  return { name: 'recover', onError() { return { status: 200, headers: [], body: new TextEncoder().encode(body) }; } };
}
export function rethrowingPlugin() {
  return { name: 'rethrow', onError(e) { const x = new Error(`wrapped: ${e.code}`); x.marker = 42; throw x; } };
}
export function requestTimes(times) {
  return { name: 'times', onRequest() { times.push(performance.now()); } };
}
export function fakeSleep(record) {
  return (ms) => { record.push(ms); return Promise.resolve(); };
}
export function fakeClock() {
  const c = { t: 1000 };
  c.now = () => c.t;
  c.advance = (ms) => { c.t += ms; };
  return c;
}
export function sinkInto(events) {
  return (e) => { events.push(e); };
}
export function traceMiddleware(name, log) {
  return {
    name,
    async execute(next, ctx) {
      log.push(`${name}>${ctx.operation}`);
      const r = await next();
      log.push(`${name}<${r.status}`);
      return r;
    },
  };
}
export function scope(name) {
  return `${name}-${Math.random().toString(36).slice(2, 10)}`;
}
export function stringify(v) {
  return JSON.stringify(v);
}
