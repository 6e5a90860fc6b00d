/** REDIS_CLUSTER_NODES: the seed list of a Redis Cluster, checked at start-up with the variable's name. */
import { describe, expect, it } from 'vitest';

import { ConfigurationError } from '../../lib/errors/keyward-error.js';
import { parseClusterNodes } from '../../runtime/redis-connection.js';
import { generateTokenKeyPair } from '../../lib/tokens/validation-token.js';
import { parseServerConfig } from '../../server/config.js';

describe('REDIS_CLUSTER_NODES', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['10.0.0.1:7000', [{ host: '10.0.0.1', port: 7000 }]],
    [' redis-a:7000, redis-b.internal:7001 ,[::1]:7002', [{ host: 'redis-a', port: 7000 }, { host: 'redis-b.internal', port: 7001 }, { host: '::1', port: 7002 }]],
  ])('%j gives %j', (given, expected) => {
    expect(parseClusterNodes(given)).toEqual(expected);
  });

  it.each(['redis-a', 'redis-a:', ':7000', 'redis-a:70000', 'redis-a:7000;redis-b:7001'])('refuses %j, naming the variable', (given) => {
    expect(() => parseClusterNodes(given)).toThrow(ConfigurationError);
    expect(() => parseClusterNodes(given)).toThrow(/REDIS_CLUSTER_NODES/);
  });

  it('reaches the server configuration', () => {
    const env = {
      REDIS_URL: 'redis://:secret@10.0.0.1:7000',
      REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7000',
      MONGODB_URL: 'mongodb://localhost:27017',
      KEYWARD_DIGEST_SECRET: '5f0c3a9d8e7b6a5f4e3d2c1b0a998877665544332211ffeeddccbbaa00112233',
      KEYWARD_ENCRYPTION_KEY: '9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a1',
      KEYWARD_SIGNING_KEY: generateTokenKeyPair().privateKey,
    };
    expect(parseServerConfig(env, process.cwd()).redisClusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7000 },
    ]);
    expect(() => parseServerConfig({ ...env, REDIS_CLUSTER_NODES: 'nope' }, process.cwd())).toThrow(/REDIS_CLUSTER_NODES/);
  });
});
