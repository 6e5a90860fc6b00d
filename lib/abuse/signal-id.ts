/** The deterministic id of an {@link AbuseSignal}. */
import type { SignalKind, SignalSubject } from './abuse-signal.js';

/** The subject as it appears in a signal id: the license id, or the network. */
export function subjectKeyOf(subject: SignalSubject): string {
  return subject.type === 'license' ? subject.licenseId : subject.network;
}

/** `sig_<kind>_<subject>_<window start ms>`: one finding per kind, subject and window. */
export function signalIdOf(kind: SignalKind, subject: SignalSubject, windowStart: Date): string {
  return `sig_${kind}_${subjectKeyOf(subject)}_${windowStart.getTime()}`;
}
