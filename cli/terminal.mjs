// What the CLI prints, and where. Colour and progress bars only when both stdout and stderr are
// terminals (and TERM is not "dumb"; NO_COLOR turns colour off): piped or redirected output
// stays plain text, one line per event, with no escape codes.
//
// The progress bar is drawn here rather than with a library: cli-progress 3.12 brings 6
// packages (296 kB installed) for what is one redrawn line (progress() below), and the CLI has
// no other runtime dependency.

const SGR = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] };
const REDRAW_MS = 80; // at most ~12 redraws a second: a fast upload must not flood the terminal

export function formatBytes(n) {
  if (n === undefined || n === null) return '?';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB'];
  let v = n;
  let u = -1;
  do { v /= 1000; u++; } while (v >= 1000 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function createTerminal({ json = false, stdout = process.stdout, stderr = process.stderr, env = process.env } = {}) {
  const fancy = Boolean(stdout.isTTY && stderr.isTTY) && env.TERM !== 'dumb';
  const colour = fancy && !env.NO_COLOR;
  let barOpen = false;

  const style = (name, text) => (colour ? `\x1b[${SGR[name][0]}m${text}\x1b[${SGR[name][1]}m` : String(text));
  const clearBar = () => {
    if (barOpen) { stderr.write('\r\x1b[2K'); barOpen = false; }
  };

  return {
    json,
    fancy,
    style,
    /** A human message about what the CLI does (stderr, so stdout stays the job's output). Silent with --json. */
    note(line = '') {
      if (json) return;
      clearBar();
      stderr.write(`${line}\n`);
    },
    /** The command's own result for humans (stdout). */
    print(line = '') {
      if (json) return;
      clearBar();
      stdout.write(`${line}\n`);
    },
    /** The one JSON document a command prints with --json. */
    printJson(value) {
      // Amounts of wei and block numbers are bigints in the SDK: decimal strings in JSON.
      stdout.write(`${JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
    },
    /** Raw text (a job's log) to stdout, or to stderr with --json (stdout is the JSON then). */
    logText(text) {
      clearBar();
      (json ? stderr : stdout).write(text);
    },
    /**
     * A progress bar on stderr when on a terminal; otherwise only the closing line (not with --json).
     * update(done, total) redraws; end(line) replaces the bar with a final line.
     */
    progress(label) {
      let last = 0;
      return {
        update(done, total) {
          if (!fancy || json) return;
          const now = Date.now();
          if (now - last < REDRAW_MS && done < total) return;
          last = now;
          const width = 24;
          const ratio = total > 0 ? Math.min(1, done / total) : 1;
          const filled = Math.round(ratio * width);
          const bar = style('cyan', '█'.repeat(filled)) + style('dim', '░'.repeat(width - filled));
          stderr.write(`\r\x1b[2K${label} ${bar} ${String(Math.round(ratio * 100)).padStart(3)}% ${formatBytes(done)}/${formatBytes(total)}`);
          barOpen = true;
        },
        end(line) {
          clearBar();
          if (!json) stderr.write(`${line}\n`);
        },
      };
    },
  };
}
