import type { TestProject } from 'vitest/node';

import { startLocalServices } from '../../embedded/local-services.js';
import { startStripeMock } from './stripe-mock.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the Redis shared by the whole test run. */
    redisUrl: string;
    /** MongoDB driver URL of the MongoDB-wire server shared by the whole test run. */
    mongoUrl: string;
    /** Which server is behind `mongoUrl` (`external`, `mongodb-memory-server`, `mongo-java-server`). */
    mongoKind: string;
    /** Base URL of the stripe-mock shared by the whole test run. */
    stripeMockUrl: string;
  }
}

/**
 * Starts one Redis (no persistence), one MongoDB-wire server (in memory, or `MONGODB_URL`
 * when set) and one stripe-mock for the whole run, and hands their URLs to tests through `provide`.
 *
 * @returns The teardown, which stops them all.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const mongoUrl = process.env.MONGODB_URL;
  const services = await startLocalServices({
    persistent: false,
    ...(mongoUrl === undefined || mongoUrl === '' ? {} : { mongoUrl }),
  });
  process.stderr.write(`test services: redis ${services.redisUrl}, mongo (${services.mongoKind}) ${services.mongoUrl}\n`);
  project.provide('redisUrl', services.redisUrl);
  project.provide('mongoUrl', services.mongoUrl);
  project.provide('mongoKind', services.mongoKind);
  let stripeMock;
  try {
    stripeMock = await startStripeMock();
  } catch (error) {
    await services.stop();
    throw error;
  }
  process.stderr.write(`test services: stripe-mock ${stripeMock.url}\n`);
  project.provide('stripeMockUrl', stripeMock.url);
  return async () => {
    await stripeMock.stop();
    await services.stop();
  };
}
