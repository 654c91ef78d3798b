/**
 * Progress for long ops runs, on stderr so stdout stays a clean record (plan,
 * per-delivery lines, summary) that can be piped or diffed. On a terminal it is
 * one redrawn bar; in CI logs and pipes, where carriage returns make a mess, it
 * is an occasional plain line.
 */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(chunk: string): boolean;
}

export interface ProgressOptions {
  readonly label: string;
  readonly total: number;
  readonly stream: ProgressStream;
  /** Minimum time between two renders. @default 100 ms on a TTY, 2000 ms otherwise */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

export interface Progress {
  /** Records `done` of `total` processed, with a short status such as "enqueued 4, refused 1". */
  update(done: number, status: string): void;
  /** Erases the bar so a line can be written to the terminal; the next update redraws it. */
  clear(): void;
  finish(done: number, status: string): void;
}

const BAR_WIDTH = 24;

export function renderBar(done: number, total: number, width: number = BAR_WIDTH): string {
  const ratio = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

export function createProgress(options: ProgressOptions): Progress {
  const { stream, label, total } = options;
  const tty = stream.isTTY === true;
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? (tty ? 100 : 2000);
  let lastRender = -Infinity;
  let barShown = false;

  const line = (done: number, status: string): string => {
    const text = `${label} ${renderBar(done, total)} ${done}/${total} ${status}`;
    return tty && stream.columns !== undefined && text.length > stream.columns - 1 ? text.slice(0, stream.columns - 1) : text;
  };
  const clear = (): void => {
    if (tty && barShown) stream.write('\r\x1b[2K');
    barShown = false;
  };
  const render = (done: number, status: string, force: boolean): void => {
    const at = now();
    if (!force && at - lastRender < intervalMs) return;
    lastRender = at;
    if (tty) {
      stream.write(`\r\x1b[2K${line(done, status)}`);
      barShown = true;
    } else {
      stream.write(`${label}: ${done}/${total} ${status}\n`);
    }
  };

  return {
    update: (done, status) => render(done, status, false),
    clear: () => {
      if (tty && barShown) lastRender = -Infinity;
      clear();
    },
    finish: (done, status) => {
      render(done, status, true);
      if (tty) stream.write('\n');
      barShown = false;
    },
  };
}
