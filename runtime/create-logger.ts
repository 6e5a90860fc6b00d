/**
 * The one logging setup of the processes (server, worker, `npm start`): pino, writing JSON lines
 * for tools, or coloured single lines (pino-pretty) for a person at a terminal. LOG_FORMAT picks;
 * `auto` (the default) is pretty exactly when stdout is a terminal, so a container or a pipe
 * into a log shipper keeps getting JSON.
 */
import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

import type { LOG_FORMATS, LOG_LEVELS } from '../lib/config/environment.js';

/** LOG_FORMAT as configured. */
export type LogFormatSetting = (typeof LOG_FORMATS)[number];

/** What is actually written. */
export type LogFormat = 'pretty' | 'json';

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  /** The `name` field of every line, e.g. `keyward-server`. Required. */
  readonly name: string;
  /** Lowest level written. Required. */
  readonly level: (typeof LOG_LEVELS)[number];
  /** LOG_FORMAT. Default `auto`. */
  readonly format?: LogFormatSetting;
  /** Where lines go. Default: stdout. */
  readonly destination?: NodeJS.WritableStream & { readonly isTTY?: boolean };
}

/** `pretty` for `pretty`, `json` for `json`, and for `auto` whether the output is a terminal. */
export function chooseLogFormat(setting: LogFormatSetting, outputIsTerminal: boolean): LogFormat {
  if (setting === 'auto') return outputIsTerminal ? 'pretty' : 'json';
  return setting;
}

/**
 * A pino logger in the chosen format. Pretty output is formatted in this thread, synchronously,
 * so nothing is lost when the process exits right after a line (a failed start-up).
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const format = chooseLogFormat(options.format ?? 'auto', destination.isTTY === true);
  const settings = { name: options.name, level: options.level };
  if (format === 'json') return options.destination === undefined ? pino(settings) : pino(settings, destination);
  return pino(
    settings,
    PinoPretty({
      destination,
      sync: true,
      colorize: destination.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
    }),
  );
}
