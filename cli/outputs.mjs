// Downloads a job's outputs into a folder, keeping their paths, with a progress bar.
// The SDK's downloadTo() does the same in one call but reports nothing until every file is
// written; the CLI fetches file by file to show progress. Each download() is checked by the SDK
// against the sha256 the worker signed (or the k-of-n agreed hash).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError, EXIT } from './exit-codes.mjs';
import { formatBytes } from './terminal.mjs';

/** `outputs`: path → { size, sha256 } (wait()'s result.outputs); `only`: paths to fetch (default all). */
export async function downloadOutputs(t, exec, outputs, dir, only = []) {
  const root = path.resolve(dir);
  const wanted = only.length ? only : Object.keys(outputs).sort();
  const missing = wanted.filter((p) => !(p in outputs));
  if (missing.length) throw new CliError(`no output named ${missing.join(', ')} (outputs: ${Object.keys(outputs).join(', ') || 'none'})`, EXIT.NOT_FOUND, 'NOT_FOUND');
  const total = wanted.reduce((n, p) => n + (outputs[p].size ?? 0), 0);
  const bar = t.progress(t.style('bold', 'download') + ' ');
  const written = [];
  let done = 0;
  bar.update(0, total);
  for (const rel of wanted) {
    // The worker names the paths: never write outside the folder (`..`, absolute paths).
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep)) throw new CliError(`refusing output path ${JSON.stringify(rel)}: it leaves ${root}`, EXIT.VERIFICATION, 'VERIFICATION');
    const bytes = await exec.download(rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, bytes);
    written.push({ path: rel, file, size: bytes.length, sha256: outputs[rel].sha256 });
    done += bytes.length;
    bar.update(done, total);
  }
  bar.end(`${t.style('bold', 'download')}   ${written.length} file${written.length === 1 ? '' : 's'}, ${formatBytes(done)} into ${root} (sha256 checked)`);
  return written;
}
