/**
 * The logging setup: LOG_FORMAT `auto` is pretty exactly when the output is a terminal; `pretty`
 * and `json` force one. Pretty lines are for people (no JSON), JSON lines for tools.
 */
import { PassThrough } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { chooseLogFormat, createLogger, type LogFormatSetting } from '../../runtime/create-logger.js';

describe('chooseLogFormat', () => {
  it.each<[LogFormatSetting, boolean, string]>([
    ['auto', true, 'pretty'],
    ['auto', false, 'json'],
    ['pretty', false, 'pretty'],
    ['json', true, 'json'],
  ])('%s with a terminal=%s writes %s', (setting, terminal, format) => {
    expect(chooseLogFormat(setting, terminal)).toBe(format);
  });
});

describe('createLogger', () => {
  function capture(format: LogFormatSetting, isTTY: boolean): string {
    const stream = Object.assign(new PassThrough(), { isTTY });
    let written = '';
    stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const logger = createLogger({ name: 'keyward-test', level: 'info', format, destination: stream });
    logger.info({ licenseId: 'lic_1' }, 'license issued');
    logger.flush();
    return written;
  }

  it('writes one JSON object per line for tools', () => {
    const line = capture('json', false).trim();
    expect(JSON.parse(line)).toMatchObject({ name: 'keyward-test', msg: 'license issued', licenseId: 'lic_1', level: 30 });
  });

  it('writes readable lines at a terminal, synchronously, with the fields', () => {
    const text = capture('auto', true);
    expect(text).toMatch(/INFO.*keyward-test.*license issued/);
    expect(text).toContain('licenseId');
    expect(() => JSON.parse(text.split('\n')[0] ?? '')).toThrow();
  });
});
