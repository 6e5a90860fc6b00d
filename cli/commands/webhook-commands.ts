/**
 * `keyward webhooks …`: webhook endpoints and their delivery log from a terminal, through the
 * admin API like every other command (`--url` / KEYWARD_URL and `--token` / KEYWARD_TOKEN). Answers
 * are printed as JSON on stdout; the API's `{ error }` goes to stderr with exit 1.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';

import { DELIVERY_STATUSES } from '../../lib/store/mongo-webhook-outbox.js';
import { WEBHOOK_EVENT_TYPES } from '../../lib/webhooks/webhook-event.js';
import { queryOf } from '../admin-api-client.js';
import type { CliContext } from '../cli-context.js';
import { integerIn } from '../cli-options.js';
import { report, type ExitCode } from '../cli-output.js';

/** How the program makes a command with the connection options, and runs an action with its context. */
export interface CommandKit {
  readonly leaf: (parent: Command, name: string, description: string) => Command;
  readonly run: (command: Command, action: (ctx: CliContext) => Promise<ExitCode>) => Promise<void>;
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


const encode = encodeURIComponent;

/** Adds `webhooks` and its subcommands to the program. */
export function addWebhookCommands(program: Command, { leaf, run }: CommandKit): void {
  const webhooks = program.command('webhooks').description('outbound webhook endpoints and their deliveries');
  const call = (command: Command, method: 'get' | 'post', path: string, body?: unknown): Promise<void> =>
    run(command, async (ctx) => report(ctx, method === 'get' ? await ctx.api.get(path) : await ctx.api.post(path, body ?? {})));

  leaf(webhooks, 'create', 'add an endpoint and print its signing secret (shown only this once)')
    .argument('<endpointUrl>')
    .option('--description <text>', 'what the endpoint is for')
    .option('--events <types>', 'comma-separated event types, or "all" (default: all)', eventTypesOption)
    .option('--disabled', 'create it disabled')
    .action((endpointUrl: string, options: { description?: string; events?: string[] | 'all'; disabled?: boolean }, command: Command) =>
      call(command, 'post', '/v1/admin/webhooks', {
        url: endpointUrl,
        ...(options.description === undefined ? {} : { description: options.description }),
        ...(options.events === undefined ? {} : { eventTypes: options.events === 'all' ? null : options.events }),
        ...(options.disabled ? { enabled: false } : {}),
      }),
    );
  leaf(webhooks, 'list', 'endpoints; --disabled lists those disabled (e.g. for failing), with why')
    .addOption(new Option('--disabled', 'only disabled endpoints').conflicts('enabled'))
    .option('--enabled', 'only enabled endpoints')
    .action((options: { disabled?: boolean; enabled?: boolean }, command: Command) =>
      call(command, 'get', `/v1/admin/webhooks${queryOf({ enabled: options.disabled ? 'false' : options.enabled ? 'true' : undefined })}`),
    );
  leaf(webhooks, 'get', 'one endpoint and its deliveries per status')
    .argument('<endpointId>')
    .action((endpointId: string, _options: object, command: Command) => call(command, 'get', `/v1/admin/webhooks/${encode(endpointId)}`));
  leaf(webhooks, 'update', "change an endpoint's URL, description or event types, or enable / disable it")
    .argument('<endpointId>')
    .option('--endpoint-url <url>', 'the new URL')
    .option('--description <text>')
    .option('--events <types>', 'comma-separated event types, or "all"', eventTypesOption)
    .addOption(new Option('--enable', 'enable it (clears a failing state)').conflicts('disable'))
    .option('--disable', 'disable it')
    .action(
      (endpointId: string, options: { endpointUrl?: string; description?: string; events?: string[] | 'all'; enable?: boolean; disable?: boolean }, command: Command) =>
        call(command, 'post', `/v1/admin/webhooks/${encode(endpointId)}`, {
          ...(options.endpointUrl === undefined ? {} : { url: options.endpointUrl }),
          ...(options.description === undefined ? {} : { description: options.description }),
          ...(options.events === undefined ? {} : { eventTypes: options.events === 'all' ? null : options.events }),
          ...(options.enable ? { enabled: true } : options.disable ? { enabled: false } : {}),
        }),
    );
  leaf(webhooks, 'rotate-secret', 'make a new signing secret (shown once); the previous one keeps signing during the overlap')
    .argument('<endpointId>')
    .option('--overlap-seconds <n>', 'how long the previous secret keeps signing', integerIn(0, 604_800), 86_400)
    .action((endpointId: string, options: { overlapSeconds: number }, command: Command) =>
      call(command, 'post', `/v1/admin/webhooks/${encode(endpointId)}/rotate-secret`, { overlapSeconds: options.overlapSeconds }),
    );
  leaf(webhooks, 'deliveries', 'the delivery log of an endpoint, newest first, as { data, nextCursor }')
    .argument('<endpointId>')
    .addOption(new Option('--status <status>').choices(DELIVERY_STATUSES))
    .option('--limit <n>', 'page size', integerIn(1, 500), 50)
    .option('--cursor <cursor>', "the previous page's nextCursor")
    .action((endpointId: string, options: { status?: string; limit: number; cursor?: string }, command: Command) =>
      call(command, 'get', `/v1/admin/webhooks/${encode(endpointId)}/deliveries${queryOf({ limit: options.limit, status: options.status, cursor: options.cursor })}`),
    );
  leaf(webhooks, 'redeliver', 'send a delivery again now, with a fresh attempt budget')
    .argument('<endpointId>')
    .argument('<deliveryId>')
    .action((endpointId: string, deliveryId: string, _options: object, command: Command) =>
      call(command, 'post', `/v1/admin/webhooks/${encode(endpointId)}/deliveries/${encode(deliveryId)}/redeliver`),
    );
}
