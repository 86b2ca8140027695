// Ctrl-C while a command runs: the first SIGINT calls the command's handler (which cancels what
// it started and then exits 130 by itself); a second one exits at once.
import { EXIT } from './exit-codes.mjs';

export function onInterrupt(handler) {
  let count = 0;
  const listener = () => {
    count += 1;
    if (count > 1) {
      process.stderr.write('\nsecond Ctrl-C: exiting without waiting for the cancellation\n');
      process.exit(EXIT.CANCELLED);
    }
    handler();
  };
  process.on('SIGINT', listener);
  return { dispose: () => process.off('SIGINT', listener) };
}
