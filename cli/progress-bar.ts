/** The terminal progress bar of bulk commands (cli-progress), drawn on stderr so stdout stays data. */
import cliProgress from 'cli-progress';
import type { ProgressBar } from './cli-context.js';

/**
 * Starts a bar of `total` steps on a terminal stream. Callers only start one when the stream is
 * a TTY: in a pipe or a log, a redrawn bar is noise.
 */
export function startProgressBar(stream: NodeJS.WritableStream, total: number): ProgressBar {
  const bar = new cliProgress.SingleBar(
    { stream, format: 'issuing [{bar}] {value}/{total} licenses | {duration_formatted}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    update: (done) => bar.update(done),
    stop: () => bar.stop(),
  };
}
