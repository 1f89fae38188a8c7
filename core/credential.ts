/**
 * @module
 * The one credential shape: what a store keeps, a provider mints, the daemon serves and its client
 * receives. The registry it is for is always the key it was asked under, never part of it.
 */

export interface Credential {
  username: string;
  secret: string;
  /** When the secret stops working; undefined for credentials that do not expire (stored, static). */
  expiresAt?: Date;
}
