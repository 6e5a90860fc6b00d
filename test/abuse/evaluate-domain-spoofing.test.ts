import fc from 'fast-check';
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
    ['loopback IPv4 dev server', 'http://127.0.0.1:8000', 'http://127.0.0.1:8000/index.html', 'example.com', LICENSED, null],
    ['IPv6 loopback dev server', 'http://[::1]:3000', null, 'example.com', LICENSED, null],
    ['private-range dev machine on the LAN', 'http://192.168.1.20:5173', null, null, LICENSED, null],
    ['10/8 and 172.16/12 machines', 'http://10.1.2.3', 'http://172.20.0.5:8080/', 'example.com', LICENSED, null],
    ['dev server bound to all interfaces', 'http://0.0.0.0:8000', null, 'example.com', LICENSED, null],
    ['IPv6 unique-local dev machine', 'http://[fd12:3456::1]:8080', null, 'example.com', LICENSED, null],
    ['underscore in a label (no license can name it)', 'https://free_keys.mirror.example.net', null, 'example.com', LICENSED, 'ORIGIN_MISMATCH'],
    ['underscore host, no claim', null, 'https://free_keys.mirror.example.net/get', null, LICENSED, 'NOT_LICENSED'],
    ['public IPv6 literal', 'https://[2a00:1450:4001:81b::200e]', null, 'example.com', LICENSED, 'ORIGIN_MISMATCH'],
    ['public IPv4 literal', 'http://93.184.216.34', null, null, LICENSED, 'NOT_LICENSED'],
    ['underscore host claimed and sent alike on an unbound key', 'https://my_site.io', null, 'my_site.io', null, null],
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

  it('names a host that no license can name as the browser sent it, lower-cased', () => {
    expect(evaluateDomainSpoofing({ origin: 'https://Free_Keys.Mirror.example.net:8443', referer: null, domain: null }, LICENSED)).toEqual({
      spoofed: true,
      reason: 'NOT_LICENSED',
      host: 'free_keys.mirror.example.net',
      claimedDomain: null,
    });
  });
});

describe('evaluateDomainSpoofing, as properties', () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
  const port = fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: null });
  const withPort = (host: string, p: number | null) => (p === null ? host : `${host}:${p}`);

  it('never flags a licensed domain or its subdomains, whatever the case, port, scheme or path', () => {
    fc.assert(
      fc.property(fc.array(label, { maxLength: 3 }), port, fc.constantFrom('http', 'https'), fc.boolean(), (subdomains, p, scheme, upper) => {
        const host = [...subdomains, 'example', 'com'].join('.');
        const origin = `${scheme}://${withPort(upper ? host.toUpperCase() : host, p)}`;
        expect(evaluateDomainSpoofing({ origin, referer: `${origin}/page?x=1`, domain: 'example.com' }, LICENSED)).toEqual({ spoofed: false });
      }),
    );
  });

  it('never flags a developer\'s own machine: loopback, private and link-local literals', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const local = fc.oneof(
      fc.tuple(octet, octet, octet).map(([a, b, c]) => `127.${a}.${b}.${c}`),
      fc.tuple(octet, octet, octet).map(([a, b, c]) => `10.${a}.${b}.${c}`),
      fc.tuple(fc.integer({ min: 16, max: 31 }), octet, octet).map(([a, b, c]) => `172.${a}.${b}.${c}`),
      fc.tuple(octet, octet).map(([a, b]) => `192.168.${a}.${b}`),
      fc.tuple(octet, octet).map(([a, b]) => `169.254.${a}.${b}`),
      fc.constantFrom('[::1]', '[fd00::1]', '[fe80::1]', 'localhost', 'app.localhost', 'printer.local'),
    );
    fc.assert(
      fc.property(local, port, (host, p) => {
        expect(evaluateDomainSpoofing({ origin: `http://${withPort(host, p)}`, referer: null, domain: 'example.com' }, LICENSED)).toEqual({ spoofed: false });
      }),
    );
  });

  it('flags every other host on a domain-bound key, also those no license can name', () => {
    const foreign = fc.oneof(
      fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => `${labels.join('.')}.pirate.net`),
      fc.tuple(label, label).map(([a, b]) => `${a}_${b}.mirror.example.net`),
      fc.constantFrom('[2a00:1450:4001:81b::200e]', '93.184.216.34', '8.8.8.8'),
    );
    fc.assert(
      fc.property(foreign, port, (host, p) => {
        expect(evaluateDomainSpoofing({ origin: `https://${withPort(host, p)}`, referer: null, domain: null }, LICENSED)).toMatchObject({ spoofed: true, reason: 'NOT_LICENSED' });
      }),
    );
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
