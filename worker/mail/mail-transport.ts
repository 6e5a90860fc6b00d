/** The port the sender delivers through; SMTP (smtp-transport.ts) implements it. */

/** One message, rendered. */
export interface OutgoingMail {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** `Message-ID` header, stable per outbox e-mail so receivers can drop a duplicate. */
  readonly messageId: string;
}

/** Something that delivers mail. */
export interface MailTransport {
  /** Resolves when the server accepted the message; rejects with the server's or the network's error. */
  send(mail: OutgoingMail): Promise<void>;
  /** Closes pooled connections. */
  close(): void;
}
