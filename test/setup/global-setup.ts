import type { TestProject } from 'vitest/node';

import { startLocalServices } from '../../embedded/local-services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the Redis shared by the whole test run. */
    redisUrl: string;
    /** MongoDB driver URL of the MongoDB-wire server shared by the whole test run. */
    mongoUrl: string;
    /** Which server is behind `mongoUrl` (`external`, `mongodb-memory-server`, `mongo-java-server`). */
    mongoKind: string;
  }
}

/**
 * Starts one Redis (no persistence) and one MongoDB-wire server (in memory, or `MONGODB_URL`
 * when set) for the whole run, and hands their URLs to tests through `provide`.
 *
 * @returns The teardown, which stops both servers.
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
  return () => services.stop();
}
