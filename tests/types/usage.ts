// Typed usage of @sandrun/sdk: must compile under `tsc --strict` (tests/pkg/run.mjs, "types").
// Checks the public surface as a TypeScript user meets it: the builder chain, results, logs as an
// async iterable, disposables, and the error classes.
import {
  init,
  Sandrun,
  JobBuilder,
  JobExecution,
  SandrunError,
  ValidationError,
  HttpError,
  NetworkError,
} from '@sandrun/sdk';

export async function example(): Promise<void> {
  await init();
  const sandrun: Sandrun = await Sandrun.create({ endpoint: 'http://127.0.0.1:8443' });

  const base: JobBuilder = sandrun.job().file('main.py', 'print("hi")').entrypoint('main.py');
  const builder: JobBuilder = base.args(['--n', '3']).outputs(['out/*']);
  const exec: JobExecution = await builder.submit();
  const id: string = exec.id;

  for await (const chunk of exec.logs()) {
    const text: string = chunk;
    void text;
  }
  const result = await exec.wait();
  const status: string = result.status;
  const report = await exec.verify();
  const ok: boolean = report.ok;
  const bytes: Uint8Array = await exec.download('out/result.txt');
  void [id, status, ok, bytes];

  {
    using scoped = sandrun.job();
    void scoped;
  }
  exec.free();

  try {
    await Sandrun.create({ endpoint: 'not a url' });
  } catch (e) {
    if (e instanceof ValidationError) {
      const code: string = e.code;
      const retryable: boolean = e.retryable;
      const message: string = e.message;
      void [code, retryable, message];
    } else if (e instanceof HttpError || e instanceof NetworkError) {
      const base: SandrunError = e;
      void base;
    }
  }
}
