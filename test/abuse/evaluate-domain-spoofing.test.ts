import { describe, expect, it } from 'vitest';

import { DEFAULT_DETECTION_THRESHOLDS } from '../../lib/abuse/detection-thresholds.js';
import { evaluateDomainSpoofing, evaluateSpoofingWindow } from '../../lib/abuse/evaluate-domain-spoofing.js';

const LICENSED = ['example.com', 'shop.example.org'];

describe('evaluateDomainSpoofing', () => {
  it.each([
    ['matching origin', 'https://example.com', null, 'example.com', LICENSED, null],
    ['www and port ignored', 'https://WWW.Example.com:8443', null, 'example.com', LICENSED, null],
    ['subdomain of the claimed domain', 'https://app.example.com', 'https://app.example.com/x', 'example.com', LICENSED, null],
    ['no headers (server-side client)', null, null, 'example.com', LICENSED, null],
    ['opaque origin', 'null', null, 'example.com', LICENSED, null],
    ['local development', 'http://localhost:3000', 'http://localhost:3000/', 'example.com', LICENSED, null],
    ['origin of another site', 'https://pirate.example.net', null, 'example.com', LICENSED, 'ORIGIN_MISMATCH'],
    ['referer of another site', null, 'https://pirate.example.net/page?k=1', 'example.com', LICENSED, 'REFERER_MISMATCH'],
    ['claimed domain matches but is not licensed', 'https://other.io', null, 'other.io', LICENSED, 'NOT_LICENSED'],
    ['no claim, unlicensed origin', 'https://other.io', null, null, LICENSED, 'NOT_LICENSED'],
    ['no claim, licensed origin', 'https://shop.example.org', null, null, LICENSED, null],
    ['no domain binding, origin matches claim', 'https://any.io', null, 'any.io', null, null],
    ['no domain binding, origin differs from claim', 'https://any.io', null, 'mine.io', null, 'ORIGIN_MISMATCH'],
    ['suffix that is not a subdomain', 'https://notexample.com', null, 'example.com', LICENSED, 'ORIGIN_MISMATCH'],
  ] as const)('%s', (_, origin, referer, domain, licensed, reason) => {
    const verdict = evaluateDomainSpoofing({ origin, referer, domain }, licensed);
    if (reason === null) expect(verdict).toEqual({ spoofed: false });
    else expect(verdict).toMatchObject({ spoofed: true, reason });
  });

  it('names the offending host and the claim', () => {
    expect(evaluateDomainSpoofing({ origin: 'https://www.pirate.net', referer: null, domain: 'Example.com' }, LICENSED)).toEqual({
      spoofed: true,
      reason: 'ORIGIN_MISMATCH',
      host: 'pirate.net',
      claimedDomain: 'example.com',
    });
  });
});

describe('evaluateSpoofingWindow', () => {
  it.each([
    [0, false],
    [1, true],
    [40, true],
  ])('%d spoofed requests in a day: flagged %s', (spoofedRequests, expected) => {
    expect(evaluateSpoofingWindow({ spoofedRequests }, DEFAULT_DETECTION_THRESHOLDS).flagged).toBe(expected);
  });
});
