/**
 * The validate fast path reads bodies however they arrive: whole with the headers (read in one
 * piece), split over several packets, or chunked without a length; it keeps the connection usable
 * for the next request, and refuses a body over the limit however it is sent.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { issueLicense } from '../../support/licenses.js';
import { startTestServer } from '../../support/server-fixture.js';

/** Opens a raw connection to the server. */
async function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/** Reads from the socket until `count` complete HTTP answers (with Content-Length) have arrived. */
async function readAnswers(socket: Socket, count: number): Promise<Array<{ status: number; body: Record<string, unknown> }>> {
  let text = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const answers: Array<{ status: number; body: Record<string, unknown> }> = [];
      let rest = text;
      while (answers.length < count) {
        const end = rest.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = rest.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? Number.NaN);
        if (rest.length < end + 4 + length) return;
        answers.push({ status: Number(head.split(' ')[1]), body: JSON.parse(rest.slice(end + 4, end + 4 + length)) as Record<string, unknown> });
        rest = rest.slice(end + 4 + length);
      }
      socket.off('data', onData);
      resolve(answers);
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function head(length: number | 'chunked'): string {
  const framing = length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`;
  return `POST /v1/licenses/validate HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`;
}

/**
 * Opens a connection, sends `pieces` (waiting `gapMs` between them), and returns the first
 * `count` answers.
 */
async function exchange(url: string, pieces: readonly string[], count = 1, gapMs = 0): Promise<Array<{ status: number; body: Record<string, unknown> }>> {
  const socket = await open(url);
  try {
    const answers = readAnswers(socket, count);
    for (const [index, piece] of pieces.entries()) {
      if (index > 0 && gapMs > 0) await pause(gapMs);
      socket.write(piece);
    }
    return await answers;
  } finally {
    socket.destroy();
  }
}

const valid = expect.objectContaining({ status: 200, body: expect.objectContaining({ code: 'VALID' }) });

describe('validate fast path: reading the body', () => {
  it('answers a body that arrives well after its headers, in two pieces', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'open' });
    const body = JSON.stringify({ key: license.key });
    const pieces = [head(Buffer.byteLength(body)), body.slice(0, 10), body.slice(10)];
    expect(await exchange(server.url, pieces, 1, 50)).toEqual([valid]);
  });

  it('answers a chunked body without a length', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'open' });
    const body = JSON.stringify({ key: license.key });
    const size = Buffer.byteLength(body).toString(16);
    expect(await exchange(server.url, [`${head('chunked')}${size}\r\n${body}\r\n0\r\n\r\n`])).toEqual([valid]);
  });

  it('answers several requests sent at once on one connection, in order', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'open' });
    const bodies = [JSON.stringify({ key: license.key }), JSON.stringify({ key: 'TO-NOPE' }), JSON.stringify({ key: license.key })];
    const answers = await exchange(server.url, [bodies.map((body) => `${head(Buffer.byteLength(body))}${body}`).join('')], 3);
    expect(answers.map((answer) => answer.body['code'])).toEqual(['VALID', 'MALFORMED_KEY', 'VALID']);
  });

  it('refuses a chunked body over the limit with 413, whatever it claims', async () => {
    const server = await startTestServer();
    const chunk = `${(8_000).toString(16)}\r\n${'x'.repeat(8_000)}\r\n`;
    const answers = await exchange(server.url, [`${head('chunked')}${chunk}`, chunk, `${chunk}0\r\n\r\n`]);
    expect(answers).toEqual([expect.objectContaining({ status: 413, body: { error: expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }) } })]);
  });

  it('answers invalid JSON that arrived whole with 400 INVALID_JSON', async () => {
    const server = await startTestServer();
    const answers = await exchange(server.url, [`${head(12)}{"key": "TO-`]);
    expect(answers).toEqual([expect.objectContaining({ status: 400, body: { error: expect.objectContaining({ code: 'INVALID_JSON' }) } })]);
  });
});
