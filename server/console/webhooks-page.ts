/**
 * Outbound webhook endpoints in the console: every endpoint with its events, whether it is
 * enabled, why and since when a disabled one is off (an operator, or deliveries that kept
 * failing), its deliveries per status, and (write tokens) the button that enables or disables it.
 * Disabled endpoints come first: they are the ones an operator was told about.
 */
import { formatAge, formatTime } from '../../lib/abuse/report-time.js';
import type { WebhookEndpointDocument } from '../../lib/store/mongo-webhook-endpoint-store.js';
import type { DeliveryStatus } from '../../lib/store/mongo-webhook-outbox.js';
import type { ConsoleUser } from './console-auth.js';
import { badge, consolePage, h, stackTable } from './console-layout.js';

/** One endpoint with its delivery counts. */
export interface WebhookRow {
  readonly endpoint: WebhookEndpointDocument;
  readonly deliveries: Readonly<Record<DeliveryStatus, number>>;
}

/** Which endpoints are shown: `?enabled=false`, `?enabled=true`, or all. */
export type WebhookFilter = 'all' | 'enabled' | 'disabled';

/** What was just done, shown above the table after the redirect. */
export interface WebhookNotice {
  readonly action: 'enabled' | 'disabled';
  readonly endpointId: string;
}

const option = (value: string, label: string, selected: boolean): string => `<option value="${h(value)}"${selected ? ' selected' : ''}>${h(label)}</option>`;

/** The ordering: disabled endpoints first, then by id (creation order). */
function byAttention(a: WebhookRow, b: WebhookRow): number {
  if (a.endpoint.enabled !== b.endpoint.enabled) return a.endpoint.enabled ? 1 : -1;
  return a.endpoint._id < b.endpoint._id ? -1 : a.endpoint._id > b.endpoint._id ? 1 : 0;
}

/** The status cell: the badge, then in words why and since when. */
function statusOf(endpoint: WebhookEndpointDocument, now: Date): string {
  const at = (when: Date): string => `<time datetime="${h(when.toISOString())}" title="${h(formatAge(when, now))}">${h(formatTime(when))}</time>`;
  const lines: string[] = [badge(endpoint.enabled ? 'enabled' : 'disabled')];
  if (!endpoint.enabled) {
    const since = endpoint.disabledAt === null ? '' : ` since ${at(endpoint.disabledAt)}`;
    lines.push(endpoint.disabledReason === 'failing' ? `Disabled for failing${since}.` : `Disabled by an operator${since}.`);
  }
  if (endpoint.failingSince !== null) lines.push(`Failing since ${at(endpoint.failingSince)}.`);
  lines.push(endpoint.lastSuccessAt === null ? '<span class="muted">No successful delivery yet.</span>' : `<span class="muted">Last success ${at(endpoint.lastSuccessAt)}.</span>`);
  if (endpoint.lastFailureAt !== null) lines.push(`<span class="muted">Last failure ${at(endpoint.lastFailureAt)}.</span>`);
  return lines.join('<br>');
}

/** The enable or disable button of an endpoint, for a write token. */
function actionOf(endpoint: WebhookEndpointDocument, user: ConsoleUser): string {
  if (!user.canDecide) return '<span class="muted">read only</span>';
  const [verb, style] = endpoint.enabled ? (['disable', 'danger'] as const) : (['enable', 'primary'] as const);
  return (
    `<form method="post" action="/console/webhooks/${encodeURIComponent(endpoint._id)}/${verb}"><input type="hidden" name="csrf" value="${h(user.csrfToken)}">` +
    `<button class="${style}" type="submit">${verb === 'enable' ? 'Enable' : 'Disable'}<span class="skip"> ${h(endpoint.url)}</span></button></form>`
  );
}

/** The webhooks page. */
export function renderWebhooksPage(user: ConsoleUser, rows: readonly WebhookRow[], filter: WebhookFilter, notice: WebhookNotice | null, now: Date): string {
  const filters =
    `<form class="filters" method="get" action="/console/webhooks">` +
    `<label>Show<select name="enabled">${option('', 'all endpoints', filter === 'all')}${option('false', 'disabled only', filter === 'disabled')}${option('true', 'enabled only', filter === 'enabled')}</select></label>` +
    `<button class="primary" type="submit">Show</button></form>`;
  const said =
    notice === null
      ? ''
      : `<p class="notice" role="status">Endpoint <code>${h(notice.endpointId)}</code> ${notice.action === 'enabled' ? 'enabled: its waiting deliveries are sent again.' : 'disabled: its deliveries wait until it is enabled again.'}</p>`;
  const table = stackTable(
    ['Endpoint', 'Events', 'Status', 'Deliveries', 'Action'],
    [...rows].sort(byAttention).map(({ endpoint, deliveries }) => [
      `<code>${h(endpoint.url)}</code>${endpoint.description === '' ? '' : `<br>${h(endpoint.description)}`}<br><span class="muted">${h(endpoint._id)}</span>`,
      endpoint.eventTypes === null ? 'all' : endpoint.eventTypes.map((type) => `<code>${h(type)}</code>`).join(' '),
      statusOf(endpoint, now),
      `${h(deliveries.pending)} pending<br>${h(deliveries.succeeded)} succeeded<br>${h(deliveries.failed)} failed`,
      actionOf(endpoint, user),
    ]),
    filter === 'all' ? 'No webhook endpoints yet: add one with the admin API or `keyward webhooks create`.' : `No ${filter} webhook endpoints.`,
    'Webhook endpoints, disabled first',
    'webhooks',
  );
  const readOnly = user.canDecide ? '' : '<p class="muted">You signed in with a read token: you can see the endpoints but not enable or disable them.</p>';
  const count = `<p class="muted">${h(rows.length)} endpoint${rows.length === 1 ? '' : 's'}${filter === 'all' ? ', disabled ones first' : ''}.</p>`;
  return consolePage('Webhooks', `<h1>Webhook endpoints</h1>${said}${filters}${readOnly}${count}${table}`, user);
}
