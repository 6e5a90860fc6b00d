/**
 * Architecture rules, checked by `npm run deps` (part of `npm run check`) and by
 * test/architecture.test.ts:
 * - pure modules of lib/ import no I/O client, no web framework, no queue and no Stripe;
 * - lib/ never imports server/ or worker/ (dependencies point inward);
 * - lib/client/ (keyward/client) imports only itself, node: built-ins and types;
 * - no import cycles anywhere.
 * lib/store/ and lib/service/ are the I/O edge of the library and may use the clients.
 */
/** Packages and built-ins that do I/O or belong to the edge. */
const IO_MODULES = [
  '(^|/)node_modules/(mongodb|ioredis|bullmq|koa|@koa|stripe|pino|geoip-lite|lru-cache|nodemailer)/',
  '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|dns|child_process|cluster|worker_threads|tls|readline)$',
];
const IO_EDGE = '^lib/(store|service|client)/';

module.exports = {
  forbidden: [
    {
      name: 'pure-lib-no-io',
      comment: 'Pure modules of lib/ take time and data as arguments and import no I/O client (style.md, point 1).',
      severity: 'error',
      from: { path: '^lib/', pathNot: IO_EDGE },
      to: { path: IO_MODULES },
    },
    {
      name: 'pure-lib-no-edge',
      comment: 'Pure modules of lib/ must not reach I/O through the edge modules either.',
      severity: 'error',
      from: { path: '^lib/', pathNot: IO_EDGE },
      to: { path: IO_EDGE },
    },
    {
      name: 'lib-not-outward',
      comment: 'lib/ is importable on its own: it never imports server/, worker/, cli/, the launchers or the embedded services.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(server|worker|embedded|scripts|cli|runtime)/' },
    },
    {
      name: 'client-self-contained',
      comment: 'keyward/client has no runtime dependencies: lib/client/ imports only itself, node: built-ins and types.',
      severity: 'error',
      from: { path: '^lib/client/' },
      to: { pathNot: '^lib/client/', dependencyTypesNot: ['type-only', 'core'] },
    },
    {
      name: 'no-circular',
      comment: 'Import cycles make modules impossible to read or load on their own.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|tools)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
