/**
 * The review console under `/console`: sign-in and sign-out, the queue, case pages with
 * decisions, reports, and webhook endpoints (enabled or disabled through the admin API's store
 * call, so enabling clears a failing state exactly as `POST /v1/admin/webhooks/:id` does). Every answer carries the console's security headers; pages are never
 * cached. Decisions call the same services as the admin API (CaseService.decide for dismiss,
 * suspend and revoke; the license service for reinstate) with the signed-in token as the actor
 * (`admin:<token id>`), so the case and the license audit trail read the same as for the API.
 */
import type { Router, RouterContext } from '@koa/router';
import type { Db } from 'mongodb';

import { CASE_STATUSES, type CaseStatus } from '../../lib/abuse/abuse-case.js';
import type { CaseService } from '../../lib/service/case-service.js';
import type { LicenseService } from '../../lib/service/license-service.js';
import type { ReportService } from '../../lib/service/report-service.js';
import type { MongoReportStore } from '../../lib/store/mongo-report-store.js';
import type { MongoWebhookEndpointStore } from '../../lib/store/mongo-webhook-endpoint-store.js';
import type { MongoWebhookOutbox } from '../../lib/store/mongo-webhook-outbox.js';
import { type ConsoleAuth, sameOrigin, SIGN_IN_COOKIE, cookieHeader, type ConsoleUser } from './console-auth.js';
import { loadCase, loadQueue, type QueueFilter } from './console-data.js';
import { CONSOLE_CSP, CONSOLE_CSS, consolePage, h } from './console-layout.js';
import { renderCasePage, type DecisionNotice } from './case-page.js';
import { readForm } from './form-body.js';
import { renderQueuePage } from './queue-page.js';
import { renderReportPage, renderReportsPage } from './report-pages.js';
import { renderSignInPage } from './sign-in-page.js';
import { renderWebhooksPage, type WebhookFilter, type WebhookNotice } from './webhooks-page.js';

/** What the console needs. */
export interface ConsoleRoutesOptions {
  readonly auth: ConsoleAuth;
  readonly cases: CaseService;
  readonly licenses: LicenseService;
  readonly db: Db;
  readonly reports: ReportService;
  readonly reportStore: MongoReportStore;
  /** Webhook endpoints: listed, and enabled or disabled as the admin API does. */
  readonly webhookEndpoints: Pick<MongoWebhookEndpointStore, 'list' | 'update'>;
  /** Each endpoint's deliveries per status, as `GET /v1/admin/webhooks/:id` shows them. */
  readonly webhookDeliveries: Pick<MongoWebhookOutbox, 'countByStatus'>;
  /** Queues the job that fills a pending report. */
  readonly enqueueReport: (reportId: string) => Promise<void>;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

const MAX_ID_LENGTH = 100;
const DECISIONS = ['dismiss', 'suspend', 'revoke', 'reinstate'] as const;

function setSecurityHeaders(ctx: RouterContext): void {
  ctx.set('content-security-policy', CONSOLE_CSP);
  ctx.set('x-content-type-options', 'nosniff');
  ctx.set('x-frame-options', 'DENY');
  ctx.set('referrer-policy', 'same-origin');
  ctx.set('cache-control', 'no-store');
}

function html(ctx: RouterContext, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = body;
}

function redirect(ctx: RouterContext, location: string): void {
  ctx.status = 303;
  ctx.set('location', location);
  ctx.body = '';
}

/** Only local console paths are followed after sign-in (no open redirect). */
function safeNext(next: string | null | undefined): string {
  return typeof next === 'string' && /^\/console(\/[A-Za-z0-9_\-./?=&%]*)?$/.test(next) && !next.includes('//') ? next : '/console';
}

function queueFilterOf(query: RouterContext['query']): QueueFilter {
  const one = (name: string): string => {
    const value = query[name];
    return (Array.isArray(value) ? value[0] : value) ?? '';
  };
  const status = one('status');
  const age = Number(one('age'));
  const kind = one('kind');
  return {
    status: status === 'any' ? 'any' : (CASE_STATUSES as readonly string[]).includes(status) ? (status as CaseStatus) : 'open',
    kind: /^[a-z_]{1,40}$/.test(kind) ? kind : null,
    ageDays: [1, 7, 30].includes(age) ? age : null,
    search: one('q').slice(0, 200),
  };
}

function webhookFilterOf(query: RouterContext['query']): WebhookFilter {
  const enabled = query['enabled'];
  return enabled === 'false' ? 'disabled' : enabled === 'true' ? 'enabled' : 'all';
}

function webhookNoticeOf(query: RouterContext['query']): WebhookNotice | null {
  const { done, endpoint } = query;
  if ((done !== 'enabled' && done !== 'disabled') || typeof endpoint !== 'string' || !/^whe_[0-9a-z]{1,60}$/.test(endpoint)) return null;
  return { action: done, endpointId: endpoint };
}

/** Adds the console's routes. */
export function addConsoleRoutes(router: Router, options: ConsoleRoutesOptions): void {
  const { auth } = options;
  const clock = options.clock ?? (() => new Date());

  /** A page for signed-in reviewers; others are sent to sign in (GET) or refused (POST). */
  const signedIn =
    (handler: (ctx: RouterContext, user: ConsoleUser) => Promise<void>) =>
    async (ctx: RouterContext): Promise<void> => {
      setSecurityHeaders(ctx);
      const user = await auth.userOf(ctx);
      if (user === null) {
        if (ctx.method === 'GET') return redirect(ctx, `/console/sign-in?next=${encodeURIComponent(ctx.originalUrl)}`);
        return html(ctx, 401, consolePage('Signed out', `<h1>Your session has ended</h1><p><a href="/console/sign-in">Sign in again</a>.</p>`, null));
      }
      await handler(ctx, user);
    };

  /** A state-changing form: same origin, the session's CSRF token, and (unless `anyScope`) a write token. */
  const formPost =
    (handler: (ctx: RouterContext, user: ConsoleUser, form: URLSearchParams) => Promise<void>, anyScope = false) =>
    signedIn(async (ctx, user) => {
      const form = await readForm(ctx);
      if (!sameOrigin(ctx, auth.isSecure(ctx.req)) || form === null || !auth.checkCsrf(user, form.get('csrf') ?? undefined)) {
        return html(ctx, 403, consolePage('Refused', `<h1>Form refused</h1><p>This form was not sent from this console page (missing or wrong security token). Go <a href="/console">back to the queue</a> and try again.</p>`, user));
      }
      if (!anyScope && !user.canDecide) {
        return html(ctx, 403, consolePage('Read only', `<h1>Read-only token</h1><p>You signed in with a read token, which can look but not decide. Sign in with a write token to decide.</p>`, user));
      }
      await handler(ctx, user, form);
    });

  router.get('/console/console.css', (ctx) => {
    setSecurityHeaders(ctx);
    ctx.set('cache-control', 'public, max-age=300');
    ctx.type = 'text/css; charset=utf-8';
    ctx.body = CONSOLE_CSS;
  });

  router.get('/console/sign-in', (ctx) => {
    setSecurityHeaders(ctx);
    const { token, setCookie } = auth.signInToken(ctx);
    if (setCookie !== null) ctx.append('set-cookie', setCookie);
    const next = typeof ctx.query['next'] === 'string' ? ctx.query['next'] : '/console';
    html(ctx, 200, renderSignInPage(token, null, safeNext(next)));
  });

  router.post('/console/sign-in', async (ctx) => {
    setSecurityHeaders(ctx);
    const form = await readForm(ctx);
    const next = safeNext(form?.get('next'));
    if (!sameOrigin(ctx, auth.isSecure(ctx.req)) || form === null || !auth.checkSignInToken(ctx, form.get('csrf') ?? undefined)) {
      const { token, setCookie } = auth.signInToken(ctx);
      if (setCookie !== null) ctx.append('set-cookie', setCookie);
      return html(ctx, 403, renderSignInPage(token, 'The sign-in form expired or was not sent from this page; please try again.', next));
    }
    const result = await auth.signIn(ctx, form.get('token') ?? '');
    if (!result.ok) {
      const { token } = auth.signInToken(ctx);
      return html(ctx, 401, renderSignInPage(token, result.message, next));
    }
    ctx.append('set-cookie', result.cookie);
    ctx.append('set-cookie', cookieHeader(SIGN_IN_COOKIE, '', 0, auth.isSecure(ctx.req)));
    redirect(ctx, next);
  });

  router.post(
    '/console/sign-out',
    formPost(async (ctx, user) => {
      ctx.append('set-cookie', await auth.signOut(ctx, user));
      html(ctx, 200, consolePage('Signed out', `<h1>Signed out</h1><p>Your session has ended. <a href="/console/sign-in">Sign in again</a>.</p>`, null));
    }, true),
  );

  router.get(
    '/console',
    signedIn(async (ctx, user) => {
      const filter = queueFilterOf(ctx.query);
      const now = clock();
      html(ctx, 200, renderQueuePage(user, filter, await loadQueue(options, filter, now), now));
    }),
  );

  const showCase = async (ctx: RouterContext, user: ConsoleUser, notice: DecisionNotice | null, problem: string | null, status: number): Promise<void> => {
    const id = ctx.params['id'] ?? '';
    const view = id.length > MAX_ID_LENGTH ? null : await loadCase(options, id);
    if (!view) return html(ctx, 404, consolePage('No such case', `<h1>No such case</h1><p>There is no case "${h(id.slice(0, MAX_ID_LENGTH))}". <a href="/console">Back to the queue</a>.</p>`, user));
    html(ctx, status, renderCasePage(view, user, notice, problem));
  };

  router.get(
    '/console/cases/:id',
    signedIn(async (ctx, user) => {
      const done = ctx.query['done'];
      await showCase(ctx, user, typeof done === 'string' && (DECISIONS as readonly string[]).includes(done) ? (done as DecisionNotice) : null, null, 200);
    }),
  );

  router.post(
    '/console/cases/:id/decide',
    formPost(async (ctx, user, form) => {
      const id = ctx.params['id'] ?? '';
      const action = form.get('action') ?? '';
      const reason = (form.get('reason') ?? '').trim();
      if (!(DECISIONS as readonly string[]).includes(action)) return showCase(ctx, user, null, 'Choose a decision: dismiss, suspend, revoke or reinstate.', 422);
      if (reason.length < 3 || reason.length > 1_000) return showCase(ctx, user, null, 'Say why, in 3 to 1,000 characters: the reason goes into the case and the audit trail.', 422);
      const actor = `admin:${user.tokenId}`;
      const ref = String(ctx.state['requestId']);
      if (action === 'reinstate') {
        const found = id.length > MAX_ID_LENGTH ? null : await options.cases.detail(id);
        if (!found) return showCase(ctx, user, null, null, 404);
        if (found.case.subject.type !== 'license') return showCase(ctx, user, null, 'A network case has no license to reinstate.', 409);
        const applied = await options.licenses.apply(found.case.subject.licenseId, { type: 'reinstate', cause: { actor, reason, ref } });
        if (!applied.ok) return showCase(ctx, user, null, `${applied.refusal.message} (${applied.refusal.code})`, 409);
      } else {
        const outcome = await options.cases.decide(id, { action: action as 'dismiss' | 'suspend' | 'revoke', reason, reviewer: actor, ref });
        if (!outcome) return showCase(ctx, user, null, null, 404);
        if (!outcome.ok) return showCase(ctx, user, null, `${outcome.refusal.message} (${outcome.refusal.code})`, 409);
      }
      redirect(ctx, `/console/cases/${encodeURIComponent(id)}?done=${action}`);
    }),
  );

  router.get(
    '/console/reports',
    signedIn(async (ctx, user) => {
      const asked = ctx.query['asked'];
      html(ctx, 200, renderReportsPage(user, await options.reportStore.list({ limit: 50 }), typeof asked === 'string' && /^rpt_[0-9a-z_-]{1,60}$/.test(asked) ? `Report ${asked} asked for; the worker makes it in a moment.` : null));
    }),
  );

  router.post(
    '/console/reports',
    formPost(async (ctx, user, form) => {
      const hours = Number(form.get('hours'));
      const span = [24, 168, 720].includes(hours) ? hours : 24;
      const to = clock();
      const id = await options.reports.request({ from: new Date(to.getTime() - span * 3_600_000), to, trigger: 'api', requestedBy: `admin:${user.tokenId}` });
      await options.enqueueReport(id);
      redirect(ctx, `/console/reports?asked=${encodeURIComponent(id)}`);
    }),
  );

  router.get(
    '/console/reports/:id',
    signedIn(async (ctx, user) => {
      const id = ctx.params['id'] ?? '';
      const report = id.length > MAX_ID_LENGTH ? null : await options.reportStore.get(id);
      if (!report || report.status !== 'ready' || report.content === null) {
        return html(ctx, 404, consolePage('No such report', `<h1>No such report</h1><p>"${h(id.slice(0, MAX_ID_LENGTH))}" is not a ready report. <a href="/console/reports">All reports</a>.</p>`, user));
      }
      html(ctx, 200, renderReportPage(user, { ...report, content: report.content }));
    }),
  );

  router.get(
    '/console/reports/:id/download.:format',
    signedIn(async (ctx) => {
      const id = ctx.params['id'] ?? '';
      const format = ctx.params['format'];
      const report = id.length > MAX_ID_LENGTH ? null : await options.reportStore.get(id);
      if (!report || report.status !== 'ready' || (format !== 'html' && format !== 'json' && format !== 'csv')) {
        ctx.status = 404;
        ctx.type = 'text/plain';
        ctx.body = 'No such report download.';
        return;
      }
      const text = format === 'json' ? JSON.stringify(report.content, null, 2) : report[format];
      ctx.type = format === 'html' ? 'text/html; charset=utf-8' : format === 'json' ? 'application/json; charset=utf-8' : 'text/csv; charset=utf-8';
      ctx.set('content-disposition', `attachment; filename="${report.id}.${format}"`);
      // The stored HTML has its own inline style sheet and no script; sandboxed if opened in place.
      ctx.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; sandbox");
      ctx.body = text ?? '';
    }),
  );

  router.get(
    '/console/webhooks',
    signedIn(async (ctx, user) => {
      const filter = webhookFilterOf(ctx.query);
      const found = await options.webhookEndpoints.list(filter === 'all' ? {} : { enabled: filter === 'enabled' });
      const rows = await Promise.all(found.map(async (endpoint) => ({ endpoint, deliveries: await options.webhookDeliveries.countByStatus(endpoint._id) })));
      html(ctx, 200, renderWebhooksPage(user, rows, filter, webhookNoticeOf(ctx.query), clock()));
    }),
  );

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    router.post(
      `/console/webhooks/:id/${verb}`,
      formPost(async (ctx, user) => {
        const id = ctx.params['id'] ?? '';
        const updated = id.length > MAX_ID_LENGTH ? null : await options.webhookEndpoints.update(id, { enabled }, clock());
        if (!updated) {
          return html(ctx, 404, consolePage('No such endpoint', `<h1>No such webhook endpoint</h1><p>There is no endpoint "${h(id.slice(0, MAX_ID_LENGTH))}". <a href="/console/webhooks">All endpoints</a>.</p>`, user));
        }
        redirect(ctx, `/console/webhooks?done=${enabled ? 'enabled' : 'disabled'}&endpoint=${encodeURIComponent(updated._id)}`);
      }),
    );
  }
}
