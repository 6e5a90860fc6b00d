/**
 * The CLI's configuration: a server URL and an admin token, flags before the environment; what is
 * missing is named with the way to set it up (`npm run keyward:local` or the variables); values
 * are never echoed. Only `token create` without a server reads MONGODB_URL.
 */
import { describe, expect, it } from 'vitest';

import { parseApiConfig, parseDirectTokenConfig } from '../../cli/cli-config.js';

const TOKEN = `kwa_tok_${'0'.repeat(26)}_${'A'.repeat(43)}`;

describe('parseApiConfig', () => {
  it('reads KEYWARD_URL and KEYWARD_TOKEN, and the flags override them', () => {
    expect(parseApiConfig({ KEYWARD_URL: 'http://127.0.0.1:8080/', KEYWARD_TOKEN: TOKEN }, {})).toEqual({ url: 'http://127.0.0.1:8080', token: TOKEN });
    const other = `kwa_tok_${'1'.repeat(26)}_${'B'.repeat(43)}`;
    expect(parseApiConfig({ KEYWARD_URL: 'http://127.0.0.1:8080', KEYWARD_TOKEN: TOKEN }, { url: 'https://keys.example.com', token: other })).toEqual({ url: 'https://keys.example.com', token: other });
  });

  it('without configuration, suggests npm run keyward:local and the variables it needs', () => {
    const attempt = () => parseApiConfig({}, {});
    expect(attempt).toThrow(expect.objectContaining({ name: 'ConfigurationError', context: { field: 'KEYWARD_URL' } }));
    expect(attempt).toThrow(/KEYWARD_URL: is not set, nor is KEYWARD_TOKEN\. Set KEYWARD_URL .* and KEYWARD_TOKEN .* or pass --url and --token\./);
    expect(attempt).toThrow('npm run keyward:local -- token create --name <you> --scope write');
  });

  it.each([
    [{ KEYWARD_TOKEN: TOKEN }, {}, /^KEYWARD_URL: is required but not set/],
    [{ KEYWARD_URL: 'http://127.0.0.1:8080' }, {}, /^KEYWARD_TOKEN: is required but not set/],
    [{ KEYWARD_URL: 'ftp://host', KEYWARD_TOKEN: TOKEN }, {}, /^KEYWARD_URL: must be an http/],
    [{ KEYWARD_URL: 'not a url', KEYWARD_TOKEN: TOKEN }, {}, /^KEYWARD_URL: must be the URL of a Keyward server/],
    [{ KEYWARD_TOKEN: TOKEN }, { url: 'http://admin:secret@host' }, /^--url: must not hold credentials/],
    [{ KEYWARD_URL: 'http://127.0.0.1:8080', KEYWARD_TOKEN: 'hunter2-is-my-token' }, {}, /^KEYWARD_TOKEN: is not an admin token/],
    [{ KEYWARD_URL: 'http://127.0.0.1:8080' }, { token: 'hunter2-is-my-token' }, /^--token: is not an admin token/],
  ])('names what is wrong: %o %o', (env, flags, message) => {
    expect(() => parseApiConfig(env, flags)).toThrow(message);
    try {
      parseApiConfig(env, flags);
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
      expect(String(error)).not.toContain('secret@');
    }
  });
});

describe('token create without an admin token', () => {
  it('writes to MONGODB_URL, and without it says how to get a first token', () => {
    expect(parseDirectTokenConfig({ MONGODB_URL: 'mongodb://db:27017' })).toEqual({ mongoUrl: 'mongodb://db:27017', mongoDb: 'keyward' });
    expect(() => parseDirectTokenConfig({})).toThrow(/KEYWARD_TOKEN: is not set, and neither is MONGODB_URL.*npm run keyward:local -- token create/);
    expect(() => parseDirectTokenConfig({ MONGODB_URL: 'postgres://db' })).toThrow(/MONGODB_URL: must be a mongodb/);
  });
});
