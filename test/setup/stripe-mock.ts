/**
 * stripe-mock (github.com/stripe/stripe-mock, installed by scripts/setup.sh with `go install`)
 * as a child process for the test run: Stripe API reads are tested against it, never against a
 * mocked HTTP layer. Looked up as STRIPE_MOCK_BIN, then on PATH, then in $GOPATH/bin (~/go/bin).
 */
import { setTimeout as delay } from 'node:timers/promises';

import { findGoTool } from '../../embedded/find-executable.js';
import { findFreePort } from '../../embedded/find-free-port.js';
import { describeProcessEnd, spawnSupervised } from '../../embedded/supervised-process.js';

/** A running stripe-mock. */
export interface StripeMock {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts stripe-mock on a free port and waits until it answers.
 *
 * @throws Error naming scripts/setup.sh when stripe-mock is not installed.
 */
export async function startStripeMock(): Promise<StripeMock> {
  const executable = await findGoTool('stripe-mock', 'STRIPE_MOCK_BIN');
  if (!executable) throw new Error('stripe-mock not found (STRIPE_MOCK_BIN, PATH, $GOPATH/bin): run scripts/setup.sh');
  const port = await findFreePort();
  // With only -http-addr it would also serve HTTPS on the fixed port 12112, which a second test
  // run on the machine (or anything else) may hold: let the system pick that port too.
  const args = ['-http-addr', `127.0.0.1:${port}`, '-https-addr', '127.0.0.1:'];
  const child = await spawnSupervised({ executable, args, stopGraceMs: 5_000 });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.hasEnded()) throw new Error(`stripe-mock ended: ${describeProcessEnd(await child.ended)}\n${child.recentOutput()}`);
    try {
      const response = await fetch(`${url}/v1/customers`, { headers: { authorization: 'Bearer sk_test_mock' } });
      if (response.ok) return { url, stop: async () => void (await child.stop()) };
    } catch {
      // Not listening yet.
    }
    await delay(50);
  }
  await child.stop();
  throw new Error(`stripe-mock did not answer on ${url}\n${child.recentOutput()}`);
}
