/**
 * The trial recorder that createKeyward gives the license service: trials go to the
 * trial-registration store, and a trial issued for a known customer without an e-mail in the
 * request takes the customer's stored e-mail, so the rule can link e-mail variants however the
 * trial was issued.
 */
import type { TrialRecorder, TrialRegistration } from '../abuse/trial-registration.js';
import { toDatastoreError } from '../store/datastore-error.js';
import type { MongoCustomerStore } from '../store/mongo-customer-store.js';
import type { MongoTrialRegistrationStore } from '../store/mongo-trial-registration-store.js';

/** Options for {@link createTrialRecorder}. */
export interface TrialRecorderOptions {
  readonly registrations: MongoTrialRegistrationStore;
  /** Customers whose stored e-mail fills in a registration without one. */
  readonly customers: Pick<MongoCustomerStore, 'collection'>;
}

/** A {@link TrialRecorder} on MongoDB that fills in e-mails from the customer records. */
export function createTrialRecorder(options: TrialRecorderOptions): TrialRecorder {
  const { registrations, customers } = options;
  return {
    async register(trials: readonly TrialRegistration[], now: Date): Promise<void> {
      const missing = [...new Set(trials.filter((trial) => trial.email === null && !trial.customerId.startsWith('license:')).map((trial) => trial.customerId))];
      const emails = new Map<string, string>();
      if (missing.length > 0) {
        try {
          for (const customer of await customers.collection.find({ _id: { $in: missing } }, { projection: { email: 1 } }).toArray()) {
            if (customer.email !== null) emails.set(customer._id, customer.email);
          }
        } catch (error) {
          throw toDatastoreError('read customer e-mails', error);
        }
      }
      await registrations.register(
        trials.map((trial) => (trial.email === null && emails.has(trial.customerId) ? { ...trial, email: emails.get(trial.customerId)! } : trial)),
        now,
      );
    },
    addSightings: (sightings, now) => registrations.addSightings(sightings, now),
  };
}
