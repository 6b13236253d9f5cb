// Argument shapes of the commands (the `args` column of CONTRACT.md) and aliases the UI uses.
// Not generated: written from the contract and derived from types.ts wherever the contract names a type.
import type { AttachmentRef, CheckpointView, DefectView, Position, SignatureView } from './types';

export type Severity = DefectView['severity'];
export type CheckpointKind = CheckpointView['kind'];
export type CheckpointState = CheckpointView['state'];
export type Witness = NonNullable<Extract<SignatureView, { state: 'declined' }>['witness']>;
export type SignatureOutcome = Extract<SignatureView, { state: 'declined' }>['outcome'];
export type Signer = 'customer' | 'witness';
export type Resolution = 'resolved' | 'follow_up_needed';
export type DamageRemedy = 'restore_original' | 'equivalent' | 'compensation';

export interface DamageInput {
  item: string;
  description: string;
  remedy: DamageRemedy;
  remedy_detail: string;
  photos: AttachmentRef[];
  customer_signature: AttachmentRef;
}
export interface NetworkDamageInput {
  equipment: string;
  cause: string;
  photos: AttachmentRef[];
  customer_signature: AttachmentRef;
}
export interface FindingInput {
  category: string;
  description: string;
  states: Record<string, string>;
  photos: AttachmentRef[];
}
export interface DefectInput {
  checkpoint: string | null;
  category: string;
  severity: Severity;
  position: Position;
  description: string;
  photos: AttachmentRef[];
}
export interface AccidentInput {
  description: string;
  measures_taken: string;
  position: Position;
  injuries: boolean;
}

/** What every rejected command carries: `message` is shown (already localized), `code` is branched on. */
export interface BackendError {
  code: string;
  message: string;
}
