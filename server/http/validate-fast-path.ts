/**
 * The validate route without Koa. Client software validates on every launch, so this one route
 * carries most of the traffic; answering it straight from node:http halves its CPU per request
 * (measured: Koa, its router and middleware cost more than the validation itself). It does the
 * same work as the Koa route (routes/validate-request.ts) and answers errors with the same
 * errorAnswer; every other request, and any validate request that is not a plain JSON POST,
 * goes to Koa unchanged.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { RequestContext } from '../../lib/service/validation-service.js';
import { ApiError } from './api-error.js';
import type { ClientIpResolver } from './client-ip.js';
import { errorAnswer } from './error-answer.js';
import { isJsonContentType } from './json-body.js';

/** The path this fast path answers. */
export const VALIDATE_PATH = '/v1/licenses/validate';

/** Options for {@link withValidateFastPath}. */
export interface ValidateFastPathOptions {
  /**
   * The validate work: body and context in, answer JSON out (routes/validate-request.ts), as a
   * string when it needed no I/O, else a promise; refusals thrown or rejected.
   */
  readonly handle: (body: unknown, context: RequestContext) => string | Promise<string>;
  readonly clientIp: ClientIpResolver;
  /** Largest body accepted, in bytes. */
  readonly limitBytes: number;
  /** Request ids (http/request-id.ts). */
  readonly requestIds: (given: string | undefined) => string;
  /** Where faults are logged. */
  readonly logger: Logger;
  /** Records each answer's status and duration (the request-duration metric). */
  readonly observe: (status: number, seconds: number) => void;
}

function header(request: IncomingMessage, name: string): string | null {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? null : text.slice(0, 2048);
}

/** One validate request in flight: what its answer needs, without a closure per request. */
interface Exchange {
  readonly response: ServerResponse;
  readonly requestId: string;
  readonly started: bigint;
}

/** A request listener that answers plain JSON validate posts itself and hands the rest on. */
export function withValidateFastPath(options: ValidateFastPathOptions, next: RequestListener): RequestListener {
  const { handle, clientIp, limitBytes, requestIds, logger, observe } = options;

  const send = (exchange: Exchange, status: number, text: string, headers?: Readonly<Record<string, string>>): void => {
    const { response } = exchange;
    if (response.headersSent) return;
    const common = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-request-id': exchange.requestId,
    };
    response.writeHead(status, headers === undefined ? common : { ...headers, ...common });
    response.end(text);
    observe(status, Number(process.hrtime.bigint() - exchange.started) / 1e9);
  };
  const fail = (exchange: Exchange, error: unknown, closeConnection = false): void => {
    const answer = errorAnswer(error, exchange.requestId);
    if (answer.fault) logger.error({ err: error, requestId: exchange.requestId }, 'request failed');
    send(exchange, answer.status, JSON.stringify(answer.body), closeConnection ? { ...answer.headers, connection: 'close' } : answer.headers);
  };
  const tooLarge = (): ApiError => new ApiError('PAYLOAD_TOO_LARGE', 'The request body is too large.', { limitBytes });

  const answer = (exchange: Exchange, request: IncomingMessage, chunks: readonly Buffer[]): void => {
    let body: unknown;
    try {
      const text = chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
      body = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      fail(exchange, new ApiError('INVALID_JSON', 'The request body is not valid JSON.'));
      return;
    }
    const context: RequestContext = {
      ip: clientIp(request),
      origin: header(request, 'origin'),
      referer: header(request, 'referer'),
      userAgent: header(request, 'user-agent'),
    };
    let result: string | Promise<string>;
    try {
      result = handle(body, context);
    } catch (error) {
      fail(exchange, error);
      return;
    }
    if (typeof result === 'string') send(exchange, 200, result);
    else result.then(answered(exchange), failed(exchange));
  };
  const answered = (exchange: Exchange) => (text: string) => send(exchange, 200, text);
  const failed = (exchange: Exchange) => (error: unknown) => fail(exchange, error);

  const listener: RequestListener = (request, response) => {
    if (request.method !== 'POST' || request.url !== VALIDATE_PATH || !isJsonContentType(request.headers['content-type'])) {
      next(request, response);
      return;
    }
    const exchange: Exchange = { response, requestId: requestIds(header(request, 'x-request-id') ?? undefined), started: process.hrtime.bigint() };
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    if (declared > limitBytes) {
      // The body is not read: the connection closes after this answer.
      request.pause();
      fail(exchange, tooLarge(), true);
      return;
    }
    // The body usually arrives with the headers, and Node's parser buffers it right after this
    // listener returns: on the next tick it is all there, and is read in one piece without the
    // stream's flowing machinery (which cost more than the validation itself). The parser hands
    // out no more than Content-Length bytes, so that many buffered is the whole body.
    process.nextTick(readWhole, exchange, request, declared);
  };

  /** Answers from the body read in one piece when all of it is buffered, else streams it. */
  const readWhole = (exchange: Exchange, request: IncomingMessage, declared: number): void => {
    if (request.readableLength !== declared || request.readableEnded) {
      streamBody(exchange, request);
      return;
    }
    const data = declared === 0 ? null : (request.read() as Buffer | null);
    answer(exchange, request, data === null ? [] : [data]);
  };

  /** Reads a body that arrives over several reads, refusing it as soon as it is too large. */
  const streamBody = (exchange: Exchange, request: IncomingMessage): void => {
    const chunks: Buffer[] = [];
    let received = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      if (refused) return;
      received += chunk.length;
      if (received > limitBytes) {
        refused = true;
        request.pause();
        fail(exchange, tooLarge(), true);
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', (error) => {
      refused = true;
      logger.warn({ err: error, requestId: exchange.requestId }, 'request stream failed');
    });
    request.on('end', () => {
      if (!refused) answer(exchange, request, chunks);
    });
  };

  return listener;
}
