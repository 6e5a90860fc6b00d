/**
 * Composition root of the `keyward` CLI: parses the arguments (commander) and the environment
 * (cli-config.ts), connects to MongoDB (and Redis when REDIS_URL is set, so servers drop their
 * cached copy of a license the CLI changes), runs one command and closes everything.
 *
 * Exit codes: 0 done; 1 refused, not found or failed (`{ error: { code, message } }` on
 * stderr); 2 bad arguments or configuration.
 */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import type { Environment } from '../lib/config/environment.js';
import { ConfigurationError, KeywardError } from '../lib/errors/keyward-error.js';
import type { LicenseStatus, RevocationReason, SuspensionReason } from '../lib/lifecycle/license.js';
import { createKeyward } from '../lib/service/create-keyward.js';
import { isEntryPoint } from '../runtime/process-entry.js';
import { DatastoreError } from '../lib/store/datastore-error.js';
import type { AdminScope } from '../lib/store/admin-token-store.js';
import { MongoAdminTokenStore } from '../lib/store/mongo-admin-token-store.js';
import { MongoEmailOutbox, type OutboxStatus } from '../lib/store/mongo-email-outbox.js';
import { parseCliConfig } from './cli-config.js';
import type { CliContext, CliOutput } from './cli-context.js';
import { commaList, emailAddress, integerIn, isoDateTime } from './cli-options.js';
import { EXIT, fail, type ExitCode } from './cli-output.js';
import type { CaseAction, CaseStatus } from '../lib/abuse/abuse-case.js';
import { createReport, getReport, listCases, listReports, recordCaseDecision, showCase } from './commands/case-commands.js';
import { createLicenses } from './commands/create-licenses.js';
import {
  changePlan,
  getLicense,
  listLicenses,
  reinstateLicense,
  renewLicense,
  revokeLicense,
  showAudit,
  suspendLicense,
} from './commands/license-commands.js';
import { listEmails, retryEmail } from './commands/email-commands.js';
import { customerLicenses, resendKeyCommand, revealKey } from './commands/key-commands.js';
import { createToken, listTokens, revokeToken } from './commands/token-commands.js';
import { addWebhookCommands } from './commands/webhook-commands.js';
import { startProgressBar } from './progress-bar.js';

/** Where the CLI reads and writes; the process's by default. */
export interface CliIo {
  readonly stdout: CliOutput;
  /** A real stream, so that a progress bar can draw on it when it is a terminal. */
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly env: Environment;
  readonly cwd: string;
}

const processIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });

/** Who acts, for the audit trail: the operating-system user running the CLI. */
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    // Containers may run under a uid with no passwd entry.
    return 'cli';
  }
}

/** Connects, builds the context, runs `command`, and closes the connections whatever happens. */
async function withContext(io: CliIo, command: (ctx: CliContext & { readonly db: Db }) => Promise<ExitCode>): Promise<ExitCode> {
  const config = parseCliConfig(io.env, io.cwd);
  const warn = (error: unknown): void => {
    io.stderr.write(`keyward: warning: ${error instanceof Error ? error.message : String(error)}\n`);
  };
  const mongo = new MongoClient(config.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  let redis: Redis | undefined;
  if (config.redisUrl !== null) {
    // One try, no reconnection loop: the CLI is short-lived, and servers' caches expire on their own.
    const client = new Redis(config.redisUrl, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      redis = client;
    } catch (error) {
      warn(new Error(`Redis unreachable (${error instanceof Error ? error.message : String(error)}); servers see changes when their cache entries expire.`));
      client.disconnect();
    }
  }
  try {
    await mongo.connect().catch((error: unknown) => {
      throw new DatastoreError('connect', error);
    });
    const keyward = await createKeyward({
      db: mongo.db(config.mongoDb),
      ...(redis ? { redis } : {}),
      plans: config.plans,
      secrets: { digest: config.digestSecret, encryption: config.encryptionKey },
      onError: warn,
    });
    try {
      return await command({
        keyward,
        db: mongo.db(config.mongoDb),
        adminTokens: new MongoAdminTokenStore({ db: mongo.db(config.mongoDb) }),
        emailOutbox: new MongoEmailOutbox({ db: mongo.db(config.mongoDb) }),
        out: io.stdout,
        err: io.stderr,
        actor: cliActor(),
        clock: () => new Date(),
        ...(io.stderr.isTTY === true ? { progress: (total: number) => startProgressBar(io.stderr, total) } : {}),
      });
    } finally {
      await keyward.close();
    }
  } finally {
    await redis?.quit();
    await mongo.close();
  }
}

/** The command tree; actions report their exit code through `done`. */
function buildProgram(io: CliIo, done: (code: ExitCode) => void): Command {
  const run = (command: (ctx: CliContext & { readonly db: Db }) => Promise<ExitCode>) => async () => done(await withContext(io, command));
  const program = new Command('keyward')
    .description('Keyward license administration: issue, inspect and change licenses; manage admin tokens; review abuse cases and reports.')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  const token = program.command('token').description('admin tokens for the HTTP admin API');
  token
    .command('create')
    .description('create a token and print it (shown only this once)')
    .requiredOption('--name <name>', 'who or what the token is for')
    .addOption(new Option('--scope <scope>', 'read: GET routes only; write: everything').choices(['read', 'write']).makeOptionMandatory())
    .option('--expires-in-days <days>', 'expire after this many days (default: never)', integerIn(1, 3_650))
    .action((options: { name: string; scope: AdminScope; expiresInDays?: number }) =>
      run((ctx) => createToken(ctx, options))(),
    );
  token.command('list').description('list tokens (never their secrets)').action(run(listTokens));
  token
    .command('revoke <tokenId>')
    .description('revoke a token for good')
    .action((tokenId: string) => run((ctx) => revokeToken(ctx, tokenId))());

  const licenses = program.command('licenses').description('licenses and their lifecycle');
  licenses
    .command('create')
    .description('issue licenses; writes id,key,... as CSV to --out or stdout')
    .requiredOption('--plan <planId>', 'plan from the catalogue')
    .option('--count <n>', 'how many', integerIn(1, 100_000), 1)
    .option('--trial', "issue trial keys of the plan's trial days")
    .option('--customer <customerId>', 'customer the licenses belong to')
    .option('--period-days <days>', 'paid period from now (default: perpetual)', integerIn(1, 36_500))
    .option('--out <file>', 'CSV file for the keys (created, never overwritten)')
    .action((options: { plan: string; count: number; trial?: true; customer?: string; periodDays?: number; out?: string }) =>
      run((ctx) =>
        createLicenses(ctx, {
          planId: options.plan,
          count: options.count,
          trial: options.trial === true,
          ...(options.customer === undefined ? {} : { customerId: options.customer }),
          ...(options.periodDays === undefined ? {} : { periodDays: options.periodDays }),
          ...(options.out === undefined ? {} : { outFile: resolve(io.cwd, options.out) }),
        }),
      )(),
    );
  licenses
    .command('get <licenseId>')
    .description('show a license (masked key)')
    .action((id: string) => run((ctx) => getLicense(ctx, id))());
  licenses
    .command('list')
    .description('list licenses by id, as { data, nextCursor }')
    .addOption(new Option('--status <status>').choices(['active', 'suspended', 'expired', 'revoked']))
    .option('--plan <planId>')
    .option('--customer <customerId>')
    .option('--product <product>')
    .option('--limit <n>', 'page size', integerIn(1, 500), 50)
    .option('--cursor <cursor>', "the previous page's nextCursor")
    .action((options: { status?: LicenseStatus; plan?: string; customer?: string; product?: string; limit: number; cursor?: string }) =>
      run((ctx) =>
        listLicenses(ctx, {
          limit: options.limit,
          ...(options.status === undefined ? {} : { status: options.status }),
          ...(options.plan === undefined ? {} : { planId: options.plan }),
          ...(options.customer === undefined ? {} : { customerId: options.customer }),
          ...(options.product === undefined ? {} : { product: options.product }),
          ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
        }),
      )(),
    );
  licenses
    .command('suspend <licenseId>')
    .description('suspend a license')
    .addOption(new Option('--reason <reason>').choices(['abuse_hold', 'manual', 'dispute', 'payment_failed']).default('manual'))
    .option('--note <text>', 'why, for the audit trail')
    .action((id: string, options: { reason: SuspensionReason; note?: string }) => run((ctx) => suspendLicense(ctx, id, options))());
  licenses
    .command('reinstate <licenseId>')
    .description('lift a suspension')
    .action((id: string) => run((ctx) => reinstateLicense(ctx, id))());
  licenses
    .command('revoke <licenseId>')
    .description('revoke a license for good')
    .addOption(new Option('--reason <reason>').choices(['refund', 'chargeback', 'abuse', 'manual']).makeOptionMandatory())
    .option('--note <text>', 'why, for the audit trail')
    .action((id: string, options: { reason: RevocationReason; note?: string }) => run((ctx) => revokeLicense(ctx, id, options))());
  licenses
    .command('renew <licenseId>')
    .description('extend the paid period')
    .requiredOption('--until <date>', 'new period end, ISO 8601 (e.g. 2027-01-31T00:00:00Z)', isoDateTime)
    .option('--ends-trial', 'the renewal is paid: the license stops being a trial')
    .action((id: string, options: { until: Date; endsTrial?: true }) =>
      run((ctx) => renewLicense(ctx, id, { until: options.until, ...(options.endsTrial ? { endsTrial: true } : {}) }))(),
    );
  licenses
    .command('change-plan <licenseId>')
    .description('upgrade now, or downgrade at the period end')
    .requiredOption('--plan <planId>', 'the new plan')
    .option('--free <activationIds>', 'activations to free when the new plan has fewer seats (comma-separated)', commaList)
    .action((id: string, options: { plan: string; free?: string[] }) =>
      run((ctx) => changePlan(ctx, id, { planId: options.plan, ...(options.free === undefined ? {} : { freeActivationIds: options.free }) }))(),
    );
  licenses
    .command('audit <licenseId>')
    .description("a license's audit trail, oldest first")
    .option('--after-version <n>', "entries after this version (the previous page's nextCursor)", integerIn(0, Number.MAX_SAFE_INTEGER))
    .option('--limit <n>', 'page size', integerIn(1, 500), 100)
    .action((id: string, options: { afterVersion?: number; limit: number }) => run((ctx) => showAudit(ctx, id, options))());

  const cases = program.command('cases').description('abuse cases: review flagged keys and networks');
  cases
    .command('list')
    .description('list cases, highest score first, as { data, nextCursor }')
    .addOption(new Option('--status <status>').choices(['open', 'dismissed', 'actioned']))
    .option('--min-score <n>', 'only cases scoring at least this', integerIn(0, 100))
    .option('--limit <n>', 'page size', integerIn(1, 500), 50)
    .option('--after <cursor>', "the previous page's nextCursor")
    .action((options: { status?: CaseStatus; minScore?: number; limit: number; after?: string }) =>
      run((ctx) =>
        listCases(ctx, {
          limit: options.limit,
          ...(options.status === undefined ? {} : { status: options.status }),
          ...(options.minScore === undefined ? {} : { minScore: options.minScore }),
          ...(options.after === undefined ? {} : { after: options.after }),
        }),
      )(),
    );
  cases
    .command('show <caseId>')
    .description('a case with its timeline, decisions and signals (evidence)')
    .action((id: string) => run((ctx) => showCase(ctx, id))());
  cases
    .command('decide <caseId>')
    .description('dismiss a case, or suspend / revoke its license (recorded with your user name)')
    .addOption(new Option('--action <action>').choices(['dismiss', 'suspend', 'revoke']).makeOptionMandatory())
    .requiredOption('--reason <text>', 'why, for the case and the license audit trail')
    .action((id: string, options: { action: CaseAction; reason: string }) => run((ctx) => recordCaseDecision(ctx, id, options))());

  const reports = program.command('reports').description('abuse reports (HTML, JSON, CSV)');
  reports
    .command('create')
    .description('make a report now (default: the last 24 hours) and print its id')
    .option('--from <date>', 'start, ISO 8601', isoDateTime)
    .option('--to <date>', 'end (exclusive), ISO 8601; default now', isoDateTime)
    .action((options: { from?: Date; to?: Date }) =>
      run((ctx) => createReport(ctx, { ...(options.from ? { from: options.from } : {}), ...(options.to ? { to: options.to } : {}) }))(),
    );
  reports
    .command('list')
    .description('list reports, newest first')
    .option('--limit <n>', 'how many', integerIn(1, 500), 20)
    .action((options: { limit: number }) => run((ctx) => listReports(ctx, options))());
  reports
    .command('get <reportId>')
    .description('write a report as html, json or csv')
    .addOption(new Option('--format <format>').choices(['html', 'json', 'csv']).makeOptionMandatory())
    .option('--out <file>', 'file to create (never overwritten); default stdout')
    .action((id: string, options: { format: 'html' | 'json' | 'csv'; out?: string }) =>
      run((ctx) => getReport(ctx, id, { format: options.format, ...(options.out === undefined ? {} : { outFile: resolve(io.cwd, options.out) }) }))(),
    );
  licenses
    .command('reveal-key <licenseId>')
    .description('print the plain key (the reveal is noted on stderr, without the key)')
    .action((id: string) => run((ctx) => revealKey(ctx, id))());
  licenses
    .command('resend-key <licenseId>')
    .description("e-mail the key again (queued in the outbox; the worker sends it)")
    .option('--to <address>', "recipient (default: the address of the license's latest key delivery)", emailAddress)
    .action((id: string, options: { to?: string }) => run((ctx) => resendKeyCommand(ctx, id, options))());

  const customers = program.command('customers').description("customers' licenses");
  customers
    .command('licenses <customerId>')
    .description("a customer's licenses (masked keys), as { customerId, data, nextCursor }")
    .addOption(new Option('--status <status>').choices(['active', 'suspended', 'expired', 'revoked']))
    .option('--limit <n>', 'page size', integerIn(1, 500), 50)
    .option('--cursor <cursor>', "the previous page's nextCursor")
    .action((customerId: string, options: { status?: LicenseStatus; limit: number; cursor?: string }) =>
      run((ctx) =>
        customerLicenses(ctx, customerId, {
          limit: options.limit,
          ...(options.status === undefined ? {} : { status: options.status }),
          ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
        }),
      )(),
    );

  const emails = program.command('emails').description('the e-mail outbox');
  emails
    .command('list')
    .description('outbox e-mails, newest first, as { data, nextCursor }')
    .addOption(new Option('--status <status>').choices(['pending', 'sent', 'failed']))
    .option('--license <licenseId>')
    .option('--customer <customerId>')
    .option('--limit <n>', 'page size', integerIn(1, 500), 50)
    .option('--cursor <cursor>', "the previous page's nextCursor")
    .action((options: { status?: OutboxStatus; license?: string; customer?: string; limit: number; cursor?: string }) =>
      run((ctx) =>
        listEmails(ctx, {
          limit: options.limit,
          ...(options.status === undefined ? {} : { status: options.status }),
          ...(options.license === undefined ? {} : { licenseId: options.license }),
          ...(options.customer === undefined ? {} : { customerId: options.customer }),
          ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
        }),
      )(),
    );
  emails
    .command('retry <emailId>')
    .description('queue a failed e-mail again with fresh attempts')
    .action((emailId: string) => run((ctx) => retryEmail(ctx, emailId))());
  addWebhookCommands(program, io, done);
  return program;
}

/**
 * Runs the CLI on the given arguments (without `node` and the script) and answers the exit code.
 * Never throws: faults are printed as `{ error }` and answered 1.
 */
export async function runCli(args: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  try {
    await buildProgram(io, (result) => {
      code = result;
    }).parseAsync([...args], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof ConfigurationError) return fail(io.stderr, { code: error.code, message: error.message }, EXIT.usage);
    const known = error instanceof KeywardError;
    // The CLI's user is the operator: the underlying reason (e.g. ECONNREFUSED) helps them act.
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return fail(io.stderr, {
      code: known ? error.code : 'INTERNAL',
      message: `${error instanceof Error ? error.message : String(error)}${cause}`,
    });
  }
}

if (isEntryPoint(import.meta.url)) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
