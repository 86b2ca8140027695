// Finishes the JS face of the wasm classes: things wasm-bindgen cannot express — async iteration
// over logs, `Symbol.dispose`, and static methods (`Sandrun.create`, `Sandrun.wallets`) that first
// make sure the module is loaded.

const dispose = Symbol.dispose ?? Symbol.for('Symbol.dispose');

export function finishApi(wasm, { ensureInit }) {
  const { Sandrun, JobBuilder, JobExecution, LogStream } = wasm;
  if (Sandrun.__sandrunFinished) return wasm;
  Object.defineProperty(Sandrun, '__sandrunFinished', { value: true });

  // The static methods that resolve asynchronously load the module first: `create`, and in the
  // full build `wallets` (EIP-6963 discovery, often the first call a page makes).
  for (const name of ['create', 'wallets']) {
    const method = Sandrun[name];
    if (typeof method !== 'function') continue;
    Sandrun[name] = async function (...args) {
      await ensureInit();
      return method.apply(Sandrun, args);
    };
  }

  /**
   * The job's output as text chunks: `for await (const chunk of exec.logs())`. Leaving the loop
   * early closes the stream.
   */
  JobExecution.prototype.logs = function logs() {
    const stream = this.logStream();
    let finished = false;
    const end = () => {
      if (!finished) {
        finished = true;
        stream.close();
        stream.free();
      }
    };
    return {
      [Symbol.asyncIterator]() { return this; },
      async next() {
        if (finished) return { value: undefined, done: true };
        let value;
        try {
          value = await stream.next();
        } catch (e) {
          end();
          throw e;
        }
        if (value === undefined) { end(); return { value: undefined, done: true }; }
        return { value, done: false };
      },
      async return() { end(); return { value: undefined, done: true }; },
    };
  };

  for (const Class of [Sandrun, JobBuilder, JobExecution, LogStream]) {
    if (!Class.prototype[dispose]) {
      Class.prototype[dispose] = function () { this.free(); };
    }
  }
  return wasm;
}
