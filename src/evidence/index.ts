/** The observatory's tamper-evident evidence log (C2SP tlog-tiles + signed-note checkpoints) and its bundles. */
export { openEvidenceLog, readObserverVerifier, readPublishedCheckpoint, CHECKPOINT_FILE, OBSERVER_KEY_FILE, OBSERVER_PUB_FILE } from './log.js';
export type { EvidenceLog, OpenEvidenceLogOptions } from './log.js';
export { startEvidenceHttpServer } from './http-server.js';
export type { EvidenceHttpServer, EvidenceHttpOptions } from './http-server.js';
export { exportEvidenceBundle, verifyEvidenceBundle, auditEvidence, serializeBundle, BUNDLE_FORMAT } from './bundle.js';
export type { EvidenceBundle, BundleEntry, BundleVerification, VerifiedEntry, AuditResult, ExportOptions, ObservationIndexLookup } from './bundle.js';
export { observationStatus, parseObservationRecord, replayObservation } from './replay.js';
export { parseCheckpoint, verifyCheckpoint, signCheckpoint, checkpointText } from './checkpoint.js';
export type { EvidenceCheckpoint } from './checkpoint.js';
export { parseNote, formatNote, signNote, noteSignedBy, parseVerifierKey, formatVerifierKey, noteKeyHash } from './signed-note.js';
export type { SignedNote, NoteSignature, NoteVerifier } from './signed-note.js';
export { parseEvidenceTilePath, evidenceTilePath } from './tile-path.js';
export { EvidenceErrorCodes } from './errors.js';
export { EvidenceLimits } from './limits.js';
export type { ObservationRecord, ObservedAnswer } from './observation-record.js';
