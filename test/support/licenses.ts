/** Licenses in known states for route tests, made through the real service and database. */
import { MongoClient } from 'mongodb';
import type { RunningServer } from '../../server/main.js';
import type { LicenseCommand } from '../../lib/lifecycle/commands.js';
import type { IssueRequest } from '../../lib/service/license-service.js';

/** Issues a license through the server's own service; returns its id and plain key. */
export async function issueLicense(server: RunningServer, request: Partial<IssueRequest> & { planId: string }) {
  const result = await server.keyward.licenses.issue({ periodEndsAt: new Date(Date.now() + 30 * 86_400_000), ...request });
  if (!result.ok) throw new Error(`issue failed: ${result.refusal.code}`);
  return { id: result.value.record.license.id, key: result.value.key, digest: result.value.record.license.keyDigest };
}

/** Applies a command, failing the test on a refusal. */
export async function command(server: RunningServer, licenseId: string, licenseCommand: LicenseCommand): Promise<void> {
  const result = await server.keyward.licenses.apply(licenseId, licenseCommand);
  if (!result.ok) throw new Error(`${licenseCommand.type} refused: ${result.refusal.code}`);
}

/**
 * Moves a license's period end into the past, straight in the database (the lifecycle refuses
 * to do it, rightly), and drops the cached copy.
 */
export async function endPeriod(server: RunningServer, mongoUrl: string, dbName: string, license: { id: string; digest: string }): Promise<void> {
  const client = await new MongoClient(mongoUrl).connect();
  try {
    await client.db(dbName).collection('licenses').updateOne({ _id: license.id as never }, { $set: { periodEndsAt: new Date(Date.now() - 60_000) } });
  } finally {
    await client.close();
  }
  server.keyward.cache.invalidate(license.digest);
}
