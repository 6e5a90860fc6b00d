/**
 * `keyward/client`: the SDK for client software. No runtime dependencies: Node 20.19+ (and
 * Electron's main process) with node:crypto, Web Crypto where the platform verifies Ed25519.
 * docs/client.md shows an example app.
 */
export { KeywardClient, createKeywardClient, type KeywardClientOptions } from './keyward-client.js';
export type { RetryOptions } from './retry-policy.js';
export { verifyToken, decodeToken, type TokenExpectations, type VerifyTokenResult } from './verify-token.js';
export type {
  ActivationResult,
  ClientFailure,
  ClientFailureReason,
  ClientJwk,
  ClientJwks,
  DeactivationResult,
  ServerErrorCode,
  TokenClaims,
  TokenRefusal,
  ValidationCode,
  ValidationResult,
} from './client-types.js';
