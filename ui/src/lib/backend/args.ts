// Argument shapes of the commands (the `args` column of CONTRACT.md) and aliases the UI uses.
// The shapes that have a Rust type are generated into types.ts and re-exported here; the rest are
// written from the contract, derived from types.ts wherever the contract names a type.
import type { DeclineKind, ErrorCode, FindingInput as FindingRecord, Remedy } from './types';

export type {
  AccidentInput,
  CheckpointKind,
  CheckpointState,
  DamageInput,
  DefectInput,
  ErrorCode,
  NetworkDamageInput,
  NoEntryInput,
  NoEntryKind,
  RequestChannel,
  RescheduleInput,
  Resolution,
  SignatureRefusal,
  Severity,
  Witness,
} from './types';

/** The finding form holds its category as a plain string (one of `inspection/findings.ts`'s
 *  FINDING_CATEGORIES); the backend refuses anything that is not a `FindingCategory`. */
export type FindingInput = Omit<FindingRecord, 'category'> & { category: string };
export type SignatureOutcome = DeclineKind;
export type DamageRemedy = Remedy;
/** Who signs through the signature pad: the step's signer (`EvidenceSpec` `signature.signer`); the
 *  protocol's `Signer` also has `technician`, never sent by the UI. */
export type Signer = 'customer' | 'witness' | 'contractor';

/** What every rejected command carries: `message` is shown (already localized), `code` is branched on. */
export interface BackendError {
  /** One of the closed vocabulary (generated from heatcrew_protocol::ErrorCode); `unknown` for a code this build does not know. */
  code: ErrorCode;
  message: string;
}
