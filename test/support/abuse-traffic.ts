/**
 * Validation traffic for the abuse scenarios: requests as client software (or an abuser) sends
 * them to `POST /v1/licenses/validate` over real HTTP, each with its own client IP (through
 * X-Forwarded-For, which the test server trusts from loopback), browser headers and seat. The
 * server stamps each event with its own clock, so scenarios are shaped to fit real time.
 */

/** One validation request. */
export interface TrafficRequest {
  readonly key: string;
  /** Client IP, sent as X-Forwarded-For. */
  readonly ip: string;
  readonly fingerprint?: string;
  /** The domain the request body claims. */
  readonly domain?: string;
  /** Origin header, as a browser sets it (`https://host`). */
  readonly origin?: string;
  /** Referer header. */
  readonly referer?: string;
  /** User-Agent header. Default: fetch's own (`node`). */
  readonly userAgent?: string;
}

/** Options for {@link sendValidations}. */
export interface SendValidationsOptions {
  /** Requests in flight at once. Default 32. */
  readonly concurrency?: number;
}

/** How the server answered a run of requests: HTTP status and `code`, counted. */
export type TrafficAnswers = Readonly<Record<string, number>>;

/**
 * Posts every request to `<baseUrl>/v1/licenses/validate`, `concurrency` at a time, and counts
 * the answers by `<status> <code>` (e.g. `200 VALID`, `200 NOT_FOUND`). Throws on a network fault.
 */
export async function sendValidations(baseUrl: string, requests: readonly TrafficRequest[], options: SendValidationsOptions = {}): Promise<TrafficAnswers> {
  const answers: Record<string, number> = {};
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < requests.length) {
      const request = requests[next++]!;
      const response = await fetch(`${baseUrl}/v1/licenses/validate`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-forwarded-for': request.ip,
          ...(request.origin === undefined ? {} : { origin: request.origin }),
          ...(request.referer === undefined ? {} : { referer: request.referer }),
          ...(request.userAgent === undefined ? {} : { 'user-agent': request.userAgent }),
        },
        body: JSON.stringify({
          key: request.key,
          ...(request.fingerprint === undefined ? {} : { fingerprint: request.fingerprint }),
          ...(request.domain === undefined ? {} : { domain: request.domain }),
        }),
      });
      const body = (await response.json()) as { code?: string; error?: { code?: string } };
      const label = `${response.status} ${body.code ?? body.error?.code ?? '?'}`;
      answers[label] = (answers[label] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 32, requests.length) }, lane));
  return answers;
}

/** `count` addresses `<prefix>.1`, `<prefix>.2` … in one /24 (`prefix` is three octets). */
export function addressesIn(prefix: string, count: number): string[] {
  if (count < 1 || count > 254) throw new Error(`a /24 holds 1 to 254 hosts, not ${count}`);
  return Array.from({ length: count }, (_, i) => `${prefix}.${i + 1}`);
}

/**
 * `rounds` repetitions of `round`. A scenario that needs N of something inside one window sends
 * its whole pattern twice: whichever side of a window boundary the run straddles, one side holds
 * a complete round.
 */
export function repeated<T>(round: readonly T[], rounds: number): T[] {
  return Array.from({ length: rounds }, () => round).flat();
}

/** A seeded pseudo-random source (xorshift32): the same seed gives the same traffic. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

/** `count` public addresses of one country: hosts in the /24 of a geoip-lite sample address of it. */
export function addressesOfCountry(sample: string, count: number): string[] {
  return addressesIn(sample.replace(/\.\d+$/, ''), count);
}

/** `count` IPv6 privacy addresses (RFC 4941): random interface ids inside one /64. */
export function privacyAddresses(prefix64: string, count: number, random: () => number): string[] {
  const group = () => Math.floor(random() * 0x10000).toString(16);
  return Array.from({ length: count }, () => `${prefix64}:${group()}:${group()}:${group()}:${group()}`);
}

/** Fisher-Yates shuffle with the given random source, so kinds of traffic interleave. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}
