/**
 * Composition root of the `keyward` CLI: parses the arguments (commander) and the connection
 * (cli-config.ts: `--url` / `KEYWARD_URL`, `--token` / `KEYWARD_TOKEN`), and runs one command
 * over the server's admin API. Only `token create` without an admin token touches the database
 * directly (`MONGODB_URL`), for the very first admin token.
 *
 * Exit codes: 0 done; 1 refused, not found or failed (`{ error: { code, message } }` on
 * stderr); 2 bad arguments or configuration.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Command, CommanderError, Option } from 'commander';
import { MongoClient } from 'mongodb';

import type { CaseAction, CaseStatus } from '../lib/abuse/abuse-case.js';
import type { Environment } from '../lib/config/environment.js';
import { ConfigurationError, KeywardError } from '../lib/errors/keyward-error.js';
import type { LicenseStatus, RevocationReason, SuspensionReason } from '../lib/lifecycle/license.js';
import type { AdminScope } from '../lib/store/admin-token-store.js';
import { DatastoreError } from '../lib/store/datastore-error.js';
import { MongoAdminTokenStore } from '../lib/store/mongo-admin-token-store.js';
import type { OutboxStatus } from '../lib/store/mongo-email-outbox.js';
import { isEntryPoint } from '../runtime/process-entry.js';
import { AdminApiClient } from './admin-api-client.js';
import { parseApiConfig, parseDirectTokenConfig, type ConnectionFlags } from './cli-config.js';
import type { CliContext, CliOutput } from './cli-context.js';
import { commaList, emailAddress, integerIn, isoDateTime } from './cli-options.js';
import { EXIT, fail, type ExitCode } from './cli-output.js';
import { createReport, getReport, listCases, listReports, recordCaseDecision, showCase } from './commands/case-commands.js';
import { createLicenses } from './commands/create-licenses.js';
import { listEmails, retryEmail } from './commands/email-commands.js';
import { customerLicenses, resendKeyCommand, revealKey } from './commands/key-commands.js';
import {
  cancelLicense,
  changePlan,
  getLicense,
  licenseUsage,
  listLicenses,
  reinstateLicense,
  renewLicense,
  resumeLicense,
  revokeLicense,
  showAudit,
  suspendLicense,
} from './commands/license-commands.js';
import { createToken, createTokenDirectly, listTokens, revokeToken } from './commands/token-commands.js';
import { addWebhookCommands } from './commands/webhook-commands.js';
import { startProgressBar } from './progress-bar.js';

/** Where the CLI reads and writes; the process's by default. */
export interface CliIo {
  readonly stdout: CliOutput;
  /** A real stream, so that a progress bar can draw on it when it is a terminal. */
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly env: Environment;
  readonly cwd: string;
  /** The fetch the API client uses. Default the global one. */
  readonly fetch?: typeof fetch;
}

const processIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });

/** The package's version, from the package.json beside the sources (cli/) or the build (dist/cli/). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'keyward' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // Not here: look one level up.
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/** Builds the context for the configured server and runs `command`. */
async function withApi(io: CliIo, flags: ConnectionFlags, command: (ctx: CliContext) => Promise<ExitCode>): Promise<ExitCode> {
  const config = parseApiConfig(io.env, flags);
  const { protocol, hostname } = new URL(config.url);
  if (protocol === 'http:' && !isLoopback(hostname)) {
    io.stderr.write(`keyward: warning: the admin token goes to ${hostname} over plain http; use https outside this machine.\n`);
  }
  return command({
    api: new AdminApiClient({ url: config.url, token: config.token, ...(io.fetch ? { fetch: io.fetch } : {}) }),
    out: io.stdout,
    err: io.stderr,
    clock: () => new Date(),
    ...(io.stderr.isTTY === true ? { progress: (total: number) => startProgressBar(io.stderr, total) } : {}),
  });
}

/** Whether a URL's host is this machine (plain http is fine there). */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** `token create` without a token to authenticate with: straight into MongoDB, then closed. */
async function createFirstToken(io: CliIo, options: { name: string; scope: AdminScope; expiresInDays?: number }): Promise<ExitCode> {
  const config = parseDirectTokenConfig(io.env);
  io.stderr.write('keyward: no admin token given: creating the token directly in the database at MONGODB_URL.\n');
  const mongo = new MongoClient(config.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  try {
    await mongo.connect().catch((error: unknown) => {
      throw new DatastoreError('connect', error);
    });
    return await createTokenDirectly({ adminTokens: new MongoAdminTokenStore({ db: mongo.db(config.mongoDb) }), out: io.stdout, err: io.stderr, clock: () => new Date() }, options);
  } finally {
    await mongo.close();
  }
}

/** Options that must be given; checked in a preAction hook (see {@link checkRequiredOptions}). */
const REQUIRED = new WeakSet<Option>();

/** An option that must be given, marked so in `--help`. */
function required(flags: string, description: string): Option {
  const option = new Option(flags, `${description} (required)`);
  REQUIRED.add(option);
  return option;
}

/**
 * Refuses a command whose required option is missing. Checked here rather than by commander's
 * own mandatory options, which are checked before unknown options: `--plna pro` should be
 * reported as the unknown `--plna`, not as a missing `--plan`. Hooks run after the unknown-option
 * check and before the action.
 */
function checkRequiredOptions(_program: Command, command: Command): void {
  for (const option of command.options) {
    if (REQUIRED.has(option) && command.getOptionValue(option.attributeName()) === undefined) {
      command.error(`error: required option '${option.flags}' not specified`, { exitCode: EXIT.usage, code: 'commander.missingMandatoryOptionValue' });
    }
  }
}

/** Connection flags of a command (every command takes them). */
function flagsOf(command: Command): ConnectionFlags {
  const { url, token } = command.opts<{ url?: string; token?: string }>();
  return { ...(url === undefined ? {} : { url }), ...(token === undefined ? {} : { token }) };
}

const STATUSES = ['active', 'suspended', 'expired', 'revoked'];
const SUSPENSION_REASONS = ['abuse_hold', 'manual', 'dispute', 'payment_failed'];

/** The command tree; actions report their exit code through `done`. */
function buildProgram(io: CliIo, done: (code: ExitCode) => void): Command {
  const program = new Command('keyward')
    .description(
      'Keyward license administration over a running server\'s admin API: issue, inspect and change licenses; manage admin tokens; review abuse cases and reports.\n' +
        'Every command takes --url (or KEYWARD_URL) and --token (or KEYWARD_TOKEN).',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .hook('preAction', checkRequiredOptions)
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  /** A command with the connection options; its action gets its arguments, its options and itself. */
  const leaf = (parent: Command, name: string, description: string): Command =>
    parent
      .command(name)
      .description(description)
      .option('--url <url>', 'the Keyward server (default: KEYWARD_URL)')
      .option('--token <token>', 'an admin token, kwa_… (default: KEYWARD_TOKEN; prefer it: other users can read flags in ps)');
  const run = async (command: Command, action: (ctx: CliContext) => Promise<ExitCode>): Promise<void> => done(await withApi(io, flagsOf(command), action));

  const token = program.command('token').description('admin tokens for the HTTP admin API (a write token manages them)');
  leaf(token, 'create', 'create a token and print it (shown only this once); without --token / KEYWARD_TOKEN, in the database at MONGODB_URL (the very first token)')
    .addOption(required('--name <name>', 'who or what the token is for'))
    .addOption(required('--scope <scope>', 'read: GET routes only; write: everything').choices(['read', 'write']))
    .option('--expires-in-days <days>', 'expire after this many days (default: never)', integerIn(1, 3_650))
    .action(async (options: { name: string; scope: AdminScope; expiresInDays?: number }, command: Command) => {
      const wanted = { name: options.name, scope: options.scope, ...(options.expiresInDays === undefined ? {} : { expiresInDays: options.expiresInDays }) };
      // Without a token to authenticate with, this is the very first token: into the database.
      const flags = flagsOf(command);
      if (flags.token === undefined && (io.env['KEYWARD_TOKEN'] ?? '') === '') done(await createFirstToken(io, wanted));
      else await run(command, (ctx) => createToken(ctx, wanted));
    });
  leaf(token, 'list', 'list tokens (never their secrets)').action((_options: object, command: Command) => run(command, listTokens));
  leaf(token, 'revoke', 'revoke a token for good')
    .argument('<tokenId>')
    .action((tokenId: string, _options: object, command: Command) => run(command, (ctx) => revokeToken(ctx, tokenId)));

  const licenses = program.command('licenses').description('licenses and their lifecycle');
  leaf(licenses, 'create', 'issue licenses; writes id,key,... as CSV to --out or stdout')
    .addOption(required('--plan <planId>', 'plan from the catalogue'))
    .option('--count <n>', 'how many', integerIn(1, 100_000), 1)
    .option('--trial', "issue trial keys of the plan's trial days")
    .option('--customer <customerId>', 'customer the licenses belong to')
    .option('--email <address>', 'e-mail each key to this address (trials record it for trial-cycling checks)', emailAddress)
    .option('--period-days <days>', 'paid period from now (default: perpetual; ignored for trials)', integerIn(1, 36_500))
    .option('--out <file>', 'CSV file for the keys (created, never overwritten)')
    .action((options: { plan: string; count: number; trial?: true; customer?: string; email?: string; periodDays?: number; out?: string }, command: Command) =>
      run(command, (ctx) =>
        createLicenses(ctx, {
          planId: options.plan,
          count: options.count,
          trial: options.trial === true,
          ...(options.customer === undefined ? {} : { customerId: options.customer }),
          ...(options.email === undefined ? {} : { email: options.email }),
          ...(options.periodDays === undefined ? {} : { periodDays: options.periodDays }),
          ...(options.out === undefined ? {} : { outFile: resolve(io.cwd, options.out) }),
        }),
      ),
    );
  leaf(licenses, 'get', 'show a license (masked key)')
    .argument('<licenseId>')
    .action((id: string, _options: object, command: Command) => run(command, (ctx) => getLicense(ctx, id)));
  leaf(licenses, 'list', 'list licenses by id, as { data, nextCursor }')
    .addOption(new Option('--status <status>').choices(STATUSES))
    .option('--plan <planId>')
    .option('--customer <customerId>')
    .option('--product <product>')
    .option('--limit <n>', 'page size', integerIn(1, 500), 50)
    .option('--cursor <cursor>', "the previous page's nextCursor")
    .action((options: { status?: LicenseStatus; plan?: string; customer?: string; product?: string; limit: number; cursor?: string }, command: Command) =>
      run(command, (ctx) =>
        listLicenses(ctx, {
          limit: options.limit,
          ...(options.status === undefined ? {} : { status: options.status }),
          ...(options.plan === undefined ? {} : { planId: options.plan }),
          ...(options.customer === undefined ? {} : { customerId: options.customer }),
          ...(options.product === undefined ? {} : { product: options.product }),
          ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
        }),
      ),
    );
  leaf(licenses, 'suspend', 'suspend a license')
    .argument('<licenseId>')
    .addOption(new Option('--reason <reason>').choices(SUSPENSION_REASONS).default('manual'))
    .option('--note <text>', 'why, for the audit trail')
    .action((id: string, options: { reason: SuspensionReason; note?: string }, command: Command) =>
      run(command, (ctx) => suspendLicense(ctx, id, { reason: options.reason, ...(options.note === undefined ? {} : { note: options.note }) })),
    );
  leaf(licenses, 'reinstate', 'lift a suspension')
    .argument('<licenseId>')
    .addOption(new Option('--only-if <reason>', 'lift it only when it has this reason').choices(SUSPENSION_REASONS))
    .action((id: string, options: { onlyIf?: SuspensionReason }, command: Command) =>
      run(command, (ctx) => reinstateLicense(ctx, id, options.onlyIf === undefined ? {} : { onlyIf: options.onlyIf })),
    );
  leaf(licenses, 'revoke', 'revoke a license for good')
    .argument('<licenseId>')
    .addOption(required('--reason <reason>', 'why it is revoked').choices(['refund', 'chargeback', 'abuse', 'manual']))
    .option('--note <text>', 'why, for the audit trail')
    .action((id: string, options: { reason: RevocationReason; note?: string }, command: Command) =>
      run(command, (ctx) => revokeLicense(ctx, id, { reason: options.reason, ...(options.note === undefined ? {} : { note: options.note }) })),
    );
  leaf(licenses, 'renew', 'extend the paid period')
    .argument('<licenseId>')
    .addOption(required('--until <date>', 'new period end, ISO 8601 (e.g. 2027-01-31T00:00:00Z)').argParser(isoDateTime))
    .option('--ends-trial', 'the renewal is paid: the license stops being a trial')
    .action((id: string, options: { until: Date; endsTrial?: true }, command: Command) =>
      run(command, (ctx) => renewLicense(ctx, id, { until: options.until, ...(options.endsTrial ? { endsTrial: true } : {}) })),
    );
  leaf(licenses, 'change-plan', 'upgrade now, or downgrade at the period end')
    .argument('<licenseId>')
    .addOption(required('--plan <planId>', 'the new plan'))
    .option('--free <activationIds>', 'activations to free when the new plan has fewer seats (comma-separated)', commaList)
    .action((id: string, options: { plan: string; free?: string[] }, command: Command) =>
      run(command, (ctx) => changePlan(ctx, id, { planId: options.plan, ...(options.free === undefined ? {} : { freeActivationIds: options.free }) })),
    );
  leaf(licenses, 'cancel', 'cancel at the period end (valid until then)')
    .argument('<licenseId>')
    .action((id: string, _options: object, command: Command) => run(command, (ctx) => cancelLicense(ctx, id)));
  leaf(licenses, 'resume', 'take back a cancellation before the period ends')
    .argument('<licenseId>')
    .action((id: string, _options: object, command: Command) => run(command, (ctx) => resumeLicense(ctx, id)));
  leaf(licenses, 'usage', "a month's validations against the quota")
    .argument('<licenseId>')
    .option('--month <YYYY-MM>', 'calendar month, UTC (default: this month)')
    .action((id: string, options: { month?: string }, command: Command) => run(command, (ctx) => licenseUsage(ctx, id, options.month === undefined ? {} : { month: options.month })));
  leaf(licenses, 'audit', "a license's audit trail, oldest first")
    .argument('<licenseId>')
    .option('--after-version <n>', "entries after this version (the previous page's nextCursor)", integerIn(0, Number.MAX_SAFE_INTEGER))
    .option('--limit <n>', 'page size', integerIn(1, 500), 100)
    .action((id: string, options: { afterVersion?: number; limit: number }, command: Command) =>
      run(command, (ctx) => showAudit(ctx, id, { limit: options.limit, ...(options.afterVersion === undefined ? {} : { afterVersion: options.afterVersion }) })),
    );
  leaf(licenses, 'reveal-key', 'print the plain key (the server logs the reveal, without the key)')
    .argument('<licenseId>')
    .action((id: string, _options: object, command: Command) => run(command, (ctx) => revealKey(ctx, id)));
  leaf(licenses, 'resend-key', 'e-mail the key again (queued in the outbox; the worker sends it)')
    .argument('<licenseId>')
    .option('--to <address>', "recipient (default: the address of the license's latest key delivery)", emailAddress)
    .action((id: string, options: { to?: string }, command: Command) => run(command, (ctx) => resendKeyCommand(ctx, id, options.to === undefined ? {} : { to: options.to })));

  const cases = program.command('cases').description('abuse cases: review flagged keys and networks');
  leaf(cases, 'list', 'list cases, highest score first, as { data, nextCursor }')
    .addOption(new Option('--status <status>').choices(['open', 'dismissed', 'actioned']))
    .option('--min-score <n>', 'only cases scoring at least this', integerIn(0, 100))
    .option('--limit <n>', 'page size', integerIn(1, 500), 50)
    .option('--after <cursor>', "the previous page's nextCursor")
    .action((options: { status?: CaseStatus; minScore?: number; limit: number; after?: string }, command: Command) =>
      run(command, (ctx) =>
        listCases(ctx, {
          limit: options.limit,
          ...(options.status === undefined ? {} : { status: options.status }),
          ...(options.minScore === undefined ? {} : { minScore: options.minScore }),
          ...(options.after === undefined ? {} : { after: options.after }),
        }),
      ),
    );
  leaf(cases, 'show', 'a case with its timeline, decisions and signals (evidence)')
    .argument('<caseId>')
    .action((id: string, _options: object, command: Command) => run(command, (ctx) => showCase(ctx, id)));
  leaf(cases, 'decide', 'dismiss a case, or suspend / revoke its license (recorded as your token)')
    .argument('<caseId>')
    .addOption(required('--action <action>', 'what to do').choices(['dismiss', 'suspend', 'revoke']))
    .addOption(required('--reason <text>', 'why, for the case and the license audit trail'))
    .action((id: string, options: { action: CaseAction; reason: string }, command: Command) => run(command, (ctx) => recordCaseDecision(ctx, id, options)));

  const reports = program.command('reports').description('abuse reports (HTML, JSON, CSV)');
  leaf(reports, 'create', 'ask for a report now (default: the last 24 hours), wait until the worker made it, and print its id and summary')
    .option('--from <date>', 'start, ISO 8601', isoDateTime)
    .option('--to <date>', 'end (exclusive), ISO 8601; default now', isoDateTime)
    .option('--no-wait', 'print the pending report at once')
    .action((options: { from?: Date; to?: Date; wait: boolean }, command: Command) =>
      run(command, (ctx) => createReport(ctx, { wait: options.wait, ...(options.from ? { from: options.from } : {}), ...(options.to ? { to: options.to } : {}) })),
    );
  leaf(reports, 'list', 'list reports, newest first')
    .option('--limit <n>', 'how many', integerIn(1, 500), 20)
    .option('--cursor <cursor>', "the previous page's nextCursor")
    .action((options: { limit: number; cursor?: string }, command: Command) =>
      run(command, (ctx) => listReports(ctx, { limit: options.limit, ...(options.cursor === undefined ? {} : { cursor: options.cursor }) })),
    );
  leaf(reports, 'get', 'write a report as html, json or csv')
    .argument('<reportId>')
    .addOption(required('--format <format>', 'html, json or csv').choices(['html', 'json', 'csv']))
    .option('--out <file>', 'file to create (never overwritten); default stdout')
    .action((id: string, options: { format: 'html' | 'json' | 'csv'; out?: string }, command: Command) =>
      run(command, (ctx) => getReport(ctx, id, { format: options.format, ...(options.out === undefined ? {} : { outFile: resolve(io.cwd, options.out) }) })),
    );

  const customers = program.command('customers').description("customers' licenses");
  leaf(customers, 'licenses', "a customer's licenses (masked keys), as { customerId, data, nextCursor }")
    .argument('<customerId>')
    .addOption(new Option('--status <status>').choices(STATUSES))
    .option('--limit <n>', 'page size', integerIn(1, 500), 50)
    .option('--cursor <cursor>', "the previous page's nextCursor")
    .action((customerId: string, options: { status?: LicenseStatus; limit: number; cursor?: string }, command: Command) =>
      run(command, (ctx) =>
        customerLicenses(ctx, customerId, {
          limit: options.limit,
          ...(options.status === undefined ? {} : { status: options.status }),
          ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
        }),
      ),
    );

  const emails = program.command('emails').description('the e-mail outbox');
  leaf(emails, 'list', 'outbox e-mails, newest first, as { data, nextCursor }')
    .addOption(new Option('--status <status>').choices(['pending', 'sent', 'failed']))
    .option('--license <licenseId>')
    .option('--customer <customerId>')
    .option('--limit <n>', 'page size', integerIn(1, 500), 50)
    .option('--cursor <cursor>', "the previous page's nextCursor")
    .action((options: { status?: OutboxStatus; license?: string; customer?: string; limit: number; cursor?: string }, command: Command) =>
      run(command, (ctx) =>
        listEmails(ctx, {
          limit: options.limit,
          ...(options.status === undefined ? {} : { status: options.status }),
          ...(options.license === undefined ? {} : { licenseId: options.license }),
          ...(options.customer === undefined ? {} : { customerId: options.customer }),
          ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
        }),
      ),
    );
  leaf(emails, 'retry', 'queue a failed e-mail again with fresh attempts')
    .argument('<emailId>')
    .action((emailId: string, _options: object, command: Command) => run(command, (ctx) => retryEmail(ctx, emailId)));
  addWebhookCommands(program, { leaf, run });
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
