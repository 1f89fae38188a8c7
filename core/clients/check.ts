/** @module One line of `berth doctor`: what was looked at, how it stands, and what to do. */
export type CheckLevel = 'ok' | 'warn' | 'fail';

export interface Check {
  level: CheckLevel;
  subject: string;
  message: string;
  hint?: string;
}
