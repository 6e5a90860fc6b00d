/** CLI token commands against the real database: a created token authenticates until revoked. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/cli-output.js';
import { createToken, listTokens, revokeToken } from '../../cli/commands/token-commands.js';
import { AdminAuth } from '../../server/auth/admin-auth.js';
import { startCli, type CliFixture } from '../support/cli-fixture.js';

let cli: CliFixture;
beforeEach(async () => {
  cli = await startCli();
});
afterEach(async () => {
  await cli.close();
});

describe('keyward token', () => {
  it('create prints a token once, and that token authenticates with its scope', async () => {
    expect(await createToken(cli.ctx, { name: 'billing-ops', scope: 'write', expiresInDays: 30 })).toBe(EXIT.ok);
    const created = cli.json();
    expect(created).toMatchObject({ id: expect.stringMatching(/^tok_/), name: 'billing-ops', scope: 'write', token: expect.stringMatching(/^kwa_tok_/) });
    expect(new Date(created.expiresAt).getTime() - new Date(created.createdAt).getTime()).toBe(30 * 86_400_000);
    expect(cli.err()).toMatch(/shown only once/);

    const auth = new AdminAuth({ store: cli.ctx.adminTokens });
    expect(await auth.authenticate(`Bearer ${created.token}`)).toEqual({
      ok: true,
      principal: { tokenId: created.id, name: 'billing-ops', scope: 'write' },
    });
  });

  it('list shows tokens without their secrets', async () => {
    await createToken(cli.ctx, { name: 'reader', scope: 'read' });
    const { token } = cli.json();
    cli.reset();
    expect(await listTokens(cli.ctx)).toBe(EXIT.ok);
    expect(cli.json().data).toEqual([expect.objectContaining({ name: 'reader', scope: 'read', expiresAt: null, revokedAt: null })]);
    expect(cli.out()).not.toContain(token.slice(-43));
    expect(cli.out()).not.toContain('secretHash');
  });

  it('revoke stops a token from authenticating; an unknown or revoked token is refused with exit 1', async () => {
    await createToken(cli.ctx, { name: 'temp', scope: 'read' });
    const { id, token } = cli.json();
    cli.reset();
    expect(await revokeToken(cli.ctx, id)).toBe(EXIT.ok);
    expect(cli.json()).toMatchObject({ id, revokedAt: expect.any(String) });
    expect(await new AdminAuth({ store: cli.ctx.adminTokens }).authenticate(`Bearer ${token}`)).toEqual({ ok: false, code: 'UNAUTHORIZED' });
    cli.reset();
    expect(await revokeToken(cli.ctx, id)).toBe(EXIT.refused);
    expect(cli.error().code).toBe('NOT_FOUND');
  });
});
