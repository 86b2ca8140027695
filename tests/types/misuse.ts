// Misuse of @sandrun/sdk: every line marked `// ERROR` must be a tsc --strict error, and no other
// line may be (tests/pkg/run.mjs, "types").
import { Sandrun, ValidationError } from '@sandrun/sdk';

export async function misuse(sandrun: Sandrun): Promise<void> {
  new Sandrun(); // ERROR: no public constructor
  await Sandrun.create(); // ERROR: config required
  sandrun.job().file(42, 'x'); // ERROR: a file name is a string
  sandrun.job().entrypoint(); // ERROR: entrypoint needs a name
  sandrun.job().nope(); // ERROR: no such method
  const exec = await sandrun.job().file('main.py', 'print(1)').entrypoint('main.py').submit();
  const s: string = exec.logs(); // ERROR: logs() is a stream, not text
  for await (const chunk of exec.logs()) {
    const n: number = chunk; // ERROR: chunks are strings
    void n;
  }
  const id: number = exec.id; // ERROR: ids are strings
  const ok: string = (await exec.verify()).ok; // ERROR: ok is a boolean
  const bytes: string = await exec.download('out/x'); // ERROR: downloads are bytes
  const e = new ValidationError(); // ERROR: a message is required
  void [s, id, ok, bytes, e];
}
