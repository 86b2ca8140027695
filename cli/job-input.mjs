// The job a `sandrun run <dir|file>` builds: a folder (every file under it) or a single file,
// with the flags that shape it. Shared by the plain run and the paid one (--pay).
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

// The real worker's own choice when a job names no entrypoint, in its order.
export const DEFAULT_ENTRYPOINTS = ['main.py', 'index.js', 'run.sh'];

/** The job from the folder or file and the flags (the SDK validates it at submit). */
export function buildJob(empty, input, values, jobArgs) {
  let job = empty;
  if (statSync(input).isDirectory()) {
    const entrypoint = values.entrypoint ?? DEFAULT_ENTRYPOINTS.find((f) => existsSync(path.join(input, f)));
    job = job.directory(input);
    if (entrypoint) job = job.entrypoint(entrypoint);
  } else {
    const name = path.basename(input);
    job = job.file(name, readFileSync(input)).entrypoint(values.entrypoint ?? name);
  }
  if (values.interpreter) job = job.interpreter(values.interpreter);
  if (jobArgs.length) job = job.args(jobArgs);
  const globs = (values.outputs ?? []).flatMap((g) => g.split(',')).map((g) => g.trim()).filter(Boolean);
  return globs.length ? job.outputs(globs) : job;
}

