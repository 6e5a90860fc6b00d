/**
 * CLI key and customer commands against the real database: reveal a key (noted without it),
 * e-mail it again through the outbox, and a customer's licenses a page at a time.
 */
import { Writable } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { EXIT } from '../../cli/cli-output.js';
import { listEmails, retryEmail } from '../../cli/commands/email-commands.js';
import { customerLicenses, resendKeyCommand, revealKey } from '../../cli/commands/key-commands.js';
import { runCli } from '../../cli/main.js';
import { startCli, type CliFixture } from '../support/cli-fixture.js';

let cli: CliFixture;
beforeEach(async () => {
  cli = await startCli();
});
afterEach(async () => {
  await cli.close();
});

async function issue(customerId: string | null = 'cus_ada'): Promise<{ id: string; key: string }> {
  const issued = await cli.ctx.keyward.licenses.issue({ planId: 'pro', customerId });
  if (!issued.ok) throw new Error(issued.refusal.message);
  return { id: issued.value.record.license.id, key: issued.value.key };
}

describe('licenses reveal-key', () => {
  it('prints the key and notes who saw it on stderr, without the key', async () => {
    const license = await issue();
    expect(await revealKey(cli.ctx, license.id)).toBe(EXIT.ok);
    expect(cli.json()).toEqual({ licenseId: license.id, key: license.key });
    expect(cli.err()).toContain(`key of ${license.id} revealed to cli:test`);
    expect(cli.err()).not.toContain(license.key);
  });

  it('answers NOT_FOUND (exit 1) for an unknown license', async () => {
    expect(await revealKey(cli.ctx, 'lic_01jzzzzzzzzzzzzzzzzzzzzzzz')).toBe(EXIT.refused);
    expect(cli.error().code).toBe('NOT_FOUND');
    expect(cli.out()).toBe('');
  });
});

describe('licenses resend-key', () => {
  it('queues a key delivery to the given address, then to the same address by default', async () => {
    const license = await issue();
    expect(await resendKeyCommand(cli.ctx, license.id, { to: 'ada@example.com' })).toBe(EXIT.ok);
    const first = cli.json();
    expect(first).toMatchObject({ id: expect.stringMatching(/^eml_/), licenseId: license.id, to: 'ada@example.com', status: 'pending' });
    cli.reset();
    expect(await resendKeyCommand(cli.ctx, license.id)).toBe(EXIT.ok);
    const second = cli.json();
    expect(second.to).toBe('ada@example.com');
    expect(second.id).not.toBe(first.id);
    expect(await cli.ctx.emailOutbox.get(second.id)).toMatchObject({ kind: 'key_delivery', customerId: 'cus_ada', status: 'pending' });
    expect(JSON.stringify(await cli.ctx.emailOutbox.collection.find().toArray())).not.toContain(license.key);
  });

  it('asks for --to when the key was never e-mailed (RECIPIENT_REQUIRED, exit 1), queuing nothing', async () => {
    const license = await issue();
    expect(await resendKeyCommand(cli.ctx, license.id)).toBe(EXIT.refused);
    expect(cli.error().code).toBe('RECIPIENT_REQUIRED');
    expect(await cli.ctx.emailOutbox.collection.countDocuments()).toBe(0);
  });
});

describe('customers licenses', () => {
  it("lists only the customer's licenses, masked, a page at a time", async () => {
    const mine = [await issue(), await issue(), await issue()];
    await issue('cus_bob');
    expect(await customerLicenses(cli.ctx, 'cus_ada', { limit: 2 })).toBe(EXIT.ok);
    const first = cli.json();
    cli.reset();
    expect(await customerLicenses(cli.ctx, 'cus_ada', { limit: 2, cursor: first.nextCursor })).toBe(EXIT.ok);
    const second = cli.json();
    const ids = [...first.data, ...second.data].map((license: { id: string }) => license.id);
    expect(ids).toEqual(mine.map((license) => license.id).sort());
    expect(second.nextCursor).toBeNull();
    expect(JSON.stringify([first, second])).not.toContain(mine[0]!.key);
  });
});

describe('emails list and retry', () => {
  it('lists the outbox by status and queues a failed e-mail again', async () => {
    const license = await issue();
    await resendKeyCommand(cli.ctx, license.id, { to: 'ada@example.com' });
    const { id } = cli.json();
    await cli.ctx.emailOutbox.markFailed((await cli.ctx.emailOutbox.claimDue(new Date(Date.now() + 1_000), 60_000))!, new Date(), 'EAUTH: 535');
    cli.reset();
    expect(await listEmails(cli.ctx, { status: 'failed' })).toBe(EXIT.ok);
    expect(cli.json()).toMatchObject({ data: [{ id, status: 'failed', lastError: 'EAUTH: 535', to: 'ada@example.com' }], nextCursor: null });
    expect(cli.out()).not.toContain(license.key);
    cli.reset();
    expect(await listEmails(cli.ctx, { cursor: 'junk' })).toBe(EXIT.refused);
    expect(cli.error().code).toBe('INVALID_REQUEST');
    cli.reset();
    expect(await retryEmail(cli.ctx, id)).toBe(EXIT.ok);
    expect(cli.json()).toMatchObject({ id, status: 'pending', attempts: 0 });
    cli.reset();
    expect(await retryEmail(cli.ctx, id)).toBe(EXIT.refused);
    expect(cli.error().code).toBe('NOT_FOUND');
  });
});

describe('usage', () => {
  it.each([
    [['licenses', 'resend-key', 'lic_1', '--to', 'not-an-address']],
    [['licenses', 'reveal-key']],
    [['customers', 'licenses', 'cus_1', '--limit', '0']],
    [['customers', 'licenses']],
    [['emails', 'list', '--status', 'bounced']],
    [['emails', 'retry']],
  ])('answers exit 2 before connecting: %o', async (args) => {
    let err = '';
    const code = await runCli(args, {
      stdout: { write: () => true },
      stderr: new Writable({ write: (chunk: Buffer, _encoding, done) => void ((err += chunk.toString()), done()) }),
      env: {},
      cwd: process.cwd(),
    });
    expect(code).toBe(EXIT.usage);
    expect(err).toMatch(/error/i);
  });
});
