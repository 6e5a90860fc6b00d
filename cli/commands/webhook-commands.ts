/**
 * `keyward webhooks …`: webhook endpoints and their delivery log from a terminal, through the
 * admin API over HTTP (`--url` / KEYWARD_URL and `--token` / KEYWARD_TOKEN), so the CLI needs
 * no database access and acts with an admin token like any other client. Answers are printed
 * as JSON on stdout; the API's `{ error }` goes to stderr with exit 1.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';

import type { Environment } from '../../lib/config/environment.js';
import { DELIVERY_STATUSES } from '../../lib/store/mongo-webhook-outbox.js';
import { WEBHOOK_EVENT_TYPES } from '../../lib/webhooks/webhook-event.js';
import type { CliOutput } from '../cli-context.js';
import { integerIn } from '../cli-options.js';
import { EXIT, fail, succeed, type ExitCode } from '../cli-output.js';

/** What the webhook commands use of the CLI's process. */
export interface WebhookCliIo {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  readonly env: Environment;
}

interface Connection {
  readonly url?: string;
  readonly token?: string;
}

/** `all`, or a comma-separated list of event types (commander keeps a null as the raw string, hence 'all'). */
function eventTypesOption(value: string): string[] | 'all' {
  if (value.trim() === 'all') return 'all';
  const types = value.split(',').map((type) => type.trim()).filter((type) => type !== '');
  const unknown = types.filter((type) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(type));
  if (types.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`unknown event type(s) ${unknown.join(', ')}; use "all" or some of: ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  }
  return types;
}

/** Calls the admin API and prints its answer; exit 1 with its error when it refuses. */
async function callApi(io: WebhookCliIo, connection: Connection, method: 'GET' | 'POST', path: string, body?: unknown): Promise<ExitCode> {
  const base = connection.url ?? io.env['KEYWARD_URL'];
  const token = connection.token ?? io.env['KEYWARD_TOKEN'];
  if (base === undefined || base === '') return fail(io.stderr, { code: 'CONFIGURATION', message: 'Give the server with --url or KEYWARD_URL, e.g. http://127.0.0.1:8080.' }, EXIT.usage);
  if (token === undefined || token === '') return fail(io.stderr, { code: 'CONFIGURATION', message: 'Give an admin token with --token or KEYWARD_TOKEN (keyward token create).' }, EXIT.usage);
  let response: Response;
  try {
    response = await fetch(new URL(path, base), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    return fail(io.stderr, { code: 'SERVICE_UNAVAILABLE', message: `Could not reach ${base}: ${cause}` });
  }
  const text = await response.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = null;
  }
  if (response.ok) return succeed(io.stdout, answer);
  const error = (answer as { error?: { code?: string; message?: string } } | null)?.error;
  return fail(io.stderr, { code: error?.code ?? `HTTP_${String(response.status)}`, message: error?.message ?? `The server answered ${String(response.status)}.` });
}

const encode = encodeURIComponent;

/** Adds `webhooks` and its subcommands to the program; each reports its exit code through `done`. */
export function addWebhookCommands(program: Command, io: WebhookCliIo, done: (code: ExitCode) => void): void {
  const webhooks = program
    .command('webhooks')
    .description('outbound webhook endpoints and their deliveries (over the admin API)')
    .option('--url <url>', 'the Keyward server (default: KEYWARD_URL)')
    .option('--token <token>', 'an admin token, kwa_… (default: KEYWARD_TOKEN)');
  const run = (command: Command, method: 'GET' | 'POST', path: string, body?: unknown): Promise<void> =>
    callApi(io, command.optsWithGlobals<Connection>(), method, path, body).then(done);

  webhooks
    .command('create <endpointUrl>')
    .description('add an endpoint and print its signing secret (shown only this once)')
    .option('--description <text>', 'what the endpoint is for')
    .option('--events <types>', 'comma-separated event types, or "all" (default: all)', eventTypesOption)
    .option('--disabled', 'create it disabled')
    .action((endpointUrl: string, options: { description?: string; events?: string[] | 'all'; disabled?: boolean }, command: Command) =>
      run(command, 'POST', '/v1/admin/webhooks', {
        url: endpointUrl,
        ...(options.description === undefined ? {} : { description: options.description }),
        ...(options.events === undefined ? {} : { eventTypes: options.events === 'all' ? null : options.events }),
        ...(options.disabled ? { enabled: false } : {}),
      }),
    );
  webhooks
    .command('list')
    .description('endpoints; --disabled lists those disabled (e.g. for failing), with why')
    .addOption(new Option('--disabled', 'only disabled endpoints').conflicts('enabled'))
    .option('--enabled', 'only enabled endpoints')
    .action((options: { disabled?: boolean; enabled?: boolean }, command: Command) =>
      run(command, 'GET', `/v1/admin/webhooks${options.disabled ? '?enabled=false' : options.enabled ? '?enabled=true' : ''}`),
    );
  webhooks
    .command('get <endpointId>')
    .description('one endpoint and its deliveries per status')
    .action((endpointId: string, _options: unknown, command: Command) => run(command, 'GET', `/v1/admin/webhooks/${encode(endpointId)}`));
  webhooks
    .command('update <endpointId>')
    .description("change an endpoint's URL, description or event types, or enable / disable it")
    .option('--endpoint-url <url>', 'the new URL')
    .option('--description <text>')
    .option('--events <types>', 'comma-separated event types, or "all"', eventTypesOption)
    .addOption(new Option('--enable', 'enable it (clears a failing state)').conflicts('disable'))
    .option('--disable', 'disable it')
    .action(
      (endpointId: string, options: { endpointUrl?: string; description?: string; events?: string[] | 'all'; enable?: boolean; disable?: boolean }, command: Command) =>
        run(command, 'POST', `/v1/admin/webhooks/${encode(endpointId)}`, {
          ...(options.endpointUrl === undefined ? {} : { url: options.endpointUrl }),
          ...(options.description === undefined ? {} : { description: options.description }),
          ...(options.events === undefined ? {} : { eventTypes: options.events === 'all' ? null : options.events }),
          ...(options.enable ? { enabled: true } : options.disable ? { enabled: false } : {}),
        }),
    );
  webhooks
    .command('rotate-secret <endpointId>')
    .description('make a new signing secret (shown once); the previous one keeps signing during the overlap')
    .option('--overlap-seconds <n>', 'how long the previous secret keeps signing', integerIn(0, 604_800), 86_400)
    .action((endpointId: string, options: { overlapSeconds: number }, command: Command) =>
      run(command, 'POST', `/v1/admin/webhooks/${encode(endpointId)}/rotate-secret`, { overlapSeconds: options.overlapSeconds }),
    );
  webhooks
    .command('deliveries <endpointId>')
    .description('the delivery log of an endpoint, newest first, as { data, nextCursor }')
    .addOption(new Option('--status <status>').choices(DELIVERY_STATUSES))
    .option('--limit <n>', 'page size', integerIn(1, 500), 50)
    .option('--cursor <cursor>', "the previous page's nextCursor")
    .action((endpointId: string, options: { status?: string; limit: number; cursor?: string }, command: Command) => {
      const query = new URLSearchParams({ limit: String(options.limit), ...(options.status === undefined ? {} : { status: options.status }), ...(options.cursor === undefined ? {} : { cursor: options.cursor }) });
      return run(command, 'GET', `/v1/admin/webhooks/${encode(endpointId)}/deliveries?${query.toString()}`);
    });
  webhooks
    .command('redeliver <endpointId> <deliveryId>')
    .description('send a delivery again now, with a fresh attempt budget')
    .action((endpointId: string, deliveryId: string, _options: unknown, command: Command) =>
      run(command, 'POST', `/v1/admin/webhooks/${encode(endpointId)}/deliveries/${encode(deliveryId)}/redeliver`, {}),
    );
}
