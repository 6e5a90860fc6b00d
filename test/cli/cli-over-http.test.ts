/**
 * Every CLI command over HTTP against a running server (production wiring) and worker (cases
 * module, for reports), with only KEYWARD_URL and KEYWARD_TOKEN in the CLI's environment: no
 * database URL, no server secret. Each command's output is the admin API's answer.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished } from 'vitest';

import { buildSignal } from '../support/abuse-signals.js';
import { startCaseReviewServer, type CaseReviewServer } from '../support/case-review-server.js';
import { cliRunner, type CliRunner } from '../support/cli-runner.js';
import { csvObjects } from '../support/parse-csv.js';

async function setUp(): Promise<{ api: CaseReviewServer; cli: CliRunner; reader: CliRunner }> {
  const api = await startCaseReviewServer();
  return {
    api,
    cli: cliRunner({ KEYWARD_URL: api.server.url, KEYWARD_TOKEN: api.writeToken }),
    reader: cliRunner({ KEYWARD_URL: api.server.url, KEYWARD_TOKEN: api.readToken }),
  };
}

describe('licenses over HTTP', () => {
  it('create, get, list, and every lifecycle command, audited as the token', async () => {
    const { api, cli } = await setUp();
    const created = await cli.run('licenses', 'create', '--plan', 'pro', '--count', '3', '--period-days', '30', '--customer', 'cus_cli');
    expect(created.code).toBe(0);
    const rows = csvObjects(created.out);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ planId: 'pro', customerId: 'cus_cli', status: 'active', key: expect.stringMatching(/^TO-/) as unknown });
    const id = rows[0]!['id']!;

    expect((await cli.run('licenses', 'get', id)).json()).toMatchObject({ id, planId: 'pro', keyMask: rows[0]!['keyMask'] });
    const listed = await cli.run('licenses', 'list', '--customer', 'cus_cli', '--limit', '2');
    expect(listed.json().data).toHaveLength(2);
    expect(listed.json().nextCursor).toEqual(expect.any(String));
    expect((await cli.run('licenses', 'list', '--customer', 'cus_cli', '--cursor', listed.json().nextCursor)).json().data).toHaveLength(1);

    expect((await cli.run('licenses', 'suspend', id, '--reason', 'abuse_hold', '--note', 'shared key')).json()).toMatchObject({ status: 'suspended' });
    expect((await cli.run('licenses', 'reinstate', id, '--only-if', 'payment_failed')).error().code).toBe('SUSPENDED_FOR_OTHER_REASON');
    expect((await cli.run('licenses', 'reinstate', id)).json()).toMatchObject({ status: 'active' });
    expect((await cli.run('licenses', 'renew', id, '--until', '2030-01-31T00:00:00Z')).json()).toMatchObject({ periodEndsAt: '2030-01-31T00:00:00.000Z' });
    expect((await cli.run('licenses', 'change-plan', id, '--plan', 'open')).json()).toMatchObject({ planId: 'open' });
    const unknownPlan = await cli.run('licenses', 'change-plan', id, '--plan', 'platinum');
    expect(unknownPlan.code).toBe(1);
    expect(unknownPlan.error().code).toBe('UNKNOWN_PLAN');
    expect((await cli.run('licenses', 'cancel', id)).json()).toMatchObject({ cancelAtPeriodEnd: true });
    expect((await cli.run('licenses', 'resume', id)).json()).toMatchObject({ cancelAtPeriodEnd: false });
    expect((await cli.run('licenses', 'usage', id)).json()).toMatchObject({ licenseId: id, validations: 0 });
    expect((await cli.run('licenses', 'revoke', id, '--reason', 'refund')).json()).toMatchObject({ status: 'revoked' });
    const again = await cli.run('licenses', 'revoke', id, '--reason', 'refund');
    expect(again.code).toBe(1);
    expect(again.error().code).toBe('ALREADY_REVOKED');

    const audit = await cli.run('licenses', 'audit', id, '--limit', '3');
    expect(audit.json().data.map(({ command }: { command: string }) => command)).toEqual(['issue', 'suspend', 'reinstate']);
    const rest = await cli.run('licenses', 'audit', id, '--after-version', audit.json().nextCursor);
    expect(rest.json().data.at(-1)).toMatchObject({ command: 'revoke', cause: { actor: `admin:${api.writeTokenId}` } });

    const missing = await cli.run('licenses', 'get', 'lic_nope');
    expect(missing.code).toBe(1);
    expect(missing.error()).toEqual({ code: 'NOT_FOUND', message: 'No license "lic_nope".' });
  });

  it('records the trials it issues for trial-cycling checks, with the e-mail given, and e-mails their keys', async () => {
    const { api, cli } = await setUp();
    const created = await cli.run('licenses', 'create', '--plan', 'pro', '--trial', '--count', '2', '--email', 'Jane.Doe+cli@googlemail.com');
    expect(created.code).toBe(0);
    const ids = csvObjects(created.out).map((row) => row['id']!);
    expect(ids).toHaveLength(2);
    const mongo = await new MongoClient(api.server.config.mongoUrl).connect();
    onTestFinished(() => mongo.close());
    const db = mongo.db(api.server.config.mongoDb);
    const stored = await db.collection('trial_registrations').find({ _id: { $in: ids } as never }).sort({ _id: 1 }).toArray();
    expect(stored.map(({ _id, emailNormalized }) => ({ _id, emailNormalized }))).toEqual(
      [...ids].sort().map((id) => ({ _id: id, emailNormalized: 'janedoe@gmail.com' })),
    );
    expect(await db.collection('email_outbox').countDocuments({ licenseId: { $in: ids }, kind: 'key_delivery' })).toBe(2);
  });

  it('writes keys to a new file only, and never over an existing one', async () => {
    const { cli } = await setUp();
    const made = await cli.run('licenses', 'create', '--plan', 'basic', '--count', '2', '--out', 'keys.csv');
    expect(made.code).toBe(0);
    expect(made.json()).toEqual({ created: 2, planId: 'basic', file: join(cli.cwd, 'keys.csv') });
    expect(csvObjects(readFileSync(join(cli.cwd, 'keys.csv'), 'utf8'))).toHaveLength(2);
    writeFileSync(join(cli.cwd, 'taken.csv'), 'keep me');
    const refused = await cli.run('licenses', 'create', '--plan', 'basic', '--out', 'taken.csv');
    expect(refused.code).toBe(2);
    expect(refused.error().code).toBe('OUTPUT_EXISTS');
    expect(readFileSync(join(cli.cwd, 'taken.csv'), 'utf8')).toBe('keep me');
    // A refused issue leaves no empty file behind.
    const unknown = await cli.run('licenses', 'create', '--plan', 'platinum', '--out', 'none.csv');
    expect(unknown.error().code).toBe('UNKNOWN_PLAN');
    expect(existsSync(join(cli.cwd, 'none.csv'))).toBe(false);
  });
});

describe('keys, customers and e-mails over HTTP', () => {
  it('reveal-key, resend-key, customers licenses, emails list and retry', async () => {
    const { api, cli } = await setUp();
    const id = csvObjects((await cli.run('licenses', 'create', '--plan', 'pro', '--customer', 'cus_keys')).out)[0]!['id']!;
    const revealed = await cli.run('licenses', 'reveal-key', id);
    expect(revealed.json()).toEqual({ licenseId: id, key: expect.stringMatching(/^TO-[0-9A-Z]{4}-/) as unknown });
    expect(revealed.err).toContain(`key of ${id} revealed`);
    expect(revealed.err).not.toContain(revealed.json().key);

    const noAddress = await cli.run('licenses', 'resend-key', id);
    expect(noAddress.code).toBe(1);
    expect(noAddress.error().code).toBe('RECIPIENT_REQUIRED');
    const resent = await cli.run('licenses', 'resend-key', id, '--to', 'ada@example.com');
    expect(resent.json()).toMatchObject({ licenseId: id, to: 'ada@example.com', status: 'pending' });

    expect((await cli.run('customers', 'licenses', 'cus_keys')).json()).toMatchObject({ customerId: 'cus_keys', data: [{ id }], nextCursor: null });
    const emails = await cli.run('emails', 'list', '--license', id);
    expect(emails.json().data).toEqual([expect.objectContaining({ id: resent.json().id, status: 'pending' })]);

    // A failed e-mail goes back in the queue.
    const mongo = await new MongoClient(api.server.config.mongoUrl).connect();
    onTestFinished(() => mongo.close());
    await mongo.db(api.server.config.mongoDb).collection('email_outbox').updateOne({ _id: resent.json().id }, { $set: { status: 'failed', failedAt: new Date(), lastError: 'mailbox full' } });
    expect((await cli.run('emails', 'list', '--status', 'failed')).json().data).toHaveLength(1);
    expect((await cli.run('emails', 'retry', resent.json().id)).json()).toMatchObject({ id: resent.json().id, status: 'pending' });
    expect((await cli.run('emails', 'retry', resent.json().id)).error().code).toBe('NOT_FOUND');
  });
});

describe('cases and reports over HTTP', () => {
  it('lists, shows and decides cases; makes, lists and downloads reports', async () => {
    const { api, cli } = await setUp();
    const licenseId = await api.issue('pro');
    await api.raise(buildSignal({ licenseId, kind: 'geo_spread', value: 24, threshold: 20, severity: 50, windowStart: new Date(Date.now() - 3_600_000).toISOString(), detectedAt: new Date().toISOString(), evidence: { countries: [{ value: 'US', count: 3 }, { value: 'DE', count: 2 }] } }));
    const caseId = `case_${licenseId}`;

    expect((await cli.run('cases', 'list', '--status', 'open', '--min-score', '1')).json().data).toEqual([expect.objectContaining({ id: caseId })]);
    expect((await cli.run('cases', 'show', caseId)).json()).toMatchObject({ id: caseId, signals: [expect.objectContaining({ kind: 'geo_spread' })] });

    const made = await cli.run('reports', 'create');
    expect(made.code).toBe(0);
    expect(made.json()).toMatchObject({ status: 'ready', summary: { newCases: 1, openCases: 1 } });
    const reportId: string = made.json().id;
    const pending = await cli.run('reports', 'create', '--no-wait');
    expect(pending.json()).toMatchObject({ status: 'pending' });
    expect((await cli.run('reports', 'list', '--limit', '5')).json().data.map(({ id }: { id: string }) => id)).toContain(reportId);
    const csv = await cli.run('reports', 'get', reportId, '--format', 'csv');
    expect(csvObjects(csv.out).find(({ section }) => section === 'new_case')).toMatchObject({ id: caseId, key_mask: expect.stringMatching(/^TO-\*{4}-\*{4}-\*{4}-[0-9A-Z]{4}$/) as unknown, plan: 'pro', reason: 'Used from 24 countries in one hour: US, DE and 22 more (20 or more is unusual).', decide_command: expect.stringContaining(`keyward cases decide ${caseId}`) as unknown });
    expect((await cli.run('reports', 'get', reportId, '--format', 'json')).json()).toMatchObject({ reportId, summary: { newCases: 1 } });
    const html = await cli.run('reports', 'get', reportId, '--format', 'html', '--out', 'report.html');
    expect(html.code).toBe(0);
    expect(readFileSync(join(cli.cwd, 'report.html'), 'utf8')).toContain(`/console/cases/${caseId}`);

    const decided = await cli.run('cases', 'decide', caseId, '--action', 'suspend', '--reason', 'shared key');
    expect(decided.json()).toMatchObject({ case: { status: 'actioned', decision: { reviewer: `admin:${api.writeTokenId}` } }, license: { status: 'suspended' } });
    const twice = await cli.run('cases', 'decide', caseId, '--action', 'suspend', '--reason', 'once more');
    expect(twice.code).toBe(1);
    expect(twice.error().code).toBe('ALREADY_SUSPENDED');
  });
});

describe('tokens over HTTP', () => {
  it('create, list and revoke, the revoked token refused at once by the server that revoked it', async () => {
    const { cli, api } = await setUp();
    const created = await cli.run('token', 'create', '--name', 'bob', '--scope', 'read', '--expires-in-days', '7');
    expect(created.code).toBe(0);
    expect(created.err).toContain('shown only once');
    const token = created.json();
    expect(token).toMatchObject({ name: 'bob', scope: 'read', token: expect.stringMatching(/^kwa_tok_/) as unknown });
    const listed = await cli.run('token', 'list');
    expect(listed.json().data.map(({ name }: { name: string }) => name)).toEqual(['case-writer', 'case-reader', 'bob']);
    expect(listed.out).not.toContain('secretHash');
    const bob = cliRunner({ KEYWARD_URL: api.server.url, KEYWARD_TOKEN: token.token });
    expect((await bob.run('cases', 'list')).code).toBe(0);
    expect((await cli.run('token', 'revoke', token.id)).json()).toMatchObject({ id: token.id });
    const refused = await bob.run('cases', 'list');
    expect(refused.code).toBe(1);
    expect(refused.error().code).toBe('UNAUTHORIZED');
    expect((await cli.run('token', 'revoke', token.id)).error().code).toBe('NOT_FOUND');
  });
});

describe('refusals over HTTP', () => {
  it('a read token reads but may not write; a stopped server is named', async () => {
    const { reader, api } = await setUp();
    expect((await reader.run('licenses', 'list')).code).toBe(0);
    const refused = await reader.run('licenses', 'create', '--plan', 'pro');
    expect(refused.code).toBe(1);
    expect(refused.error().code).toBe('FORBIDDEN');
    expect((await reader.run('token', 'list')).error().code).toBe('FORBIDDEN');

    const away = cliRunner({ KEYWARD_URL: 'http://127.0.0.1:1', KEYWARD_TOKEN: api.readToken });
    const down = await away.run('licenses', 'list');
    expect(down.code).toBe(1);
    expect(down.err).not.toContain('plain http');
    expect(down.error().code).toBe('SERVER_UNREACHABLE');
    expect(down.error().message).toContain('Cannot reach the Keyward server at http://127.0.0.1:1');
    // A token sent in clear over the network is warned about (the address is reserved: nothing answers).
    const far = await cliRunner({ KEYWARD_URL: 'http://192.0.2.1:9', KEYWARD_TOKEN: api.readToken }).run('licenses', 'list', '--url', 'http://127.0.0.2:1');
    expect(far.err).not.toContain('plain http');
    const clear = await cliRunner({ KEYWARD_URL: 'http://localhost:1', KEYWARD_TOKEN: api.readToken }).run('licenses', 'list', '--url', 'http://keys.invalid:1');
    expect(clear.err).toContain('keyward: warning: the admin token goes to keys.invalid over plain http');
    expect(clear.error().code).toBe('SERVER_UNREACHABLE');
  });
});
