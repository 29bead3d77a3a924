import type { PublicKey } from '../core/tokens/keys.js';
import type { Material } from '../core/material/material.js';
import type { CommitmentChecker } from '../core/verify/commitment.js';

/** What verification uses, fixed when the server starts (the `emblem verify` / `check` flags of `emblem serve`). */
export interface VerifySettings {
  trustedKeys: PublicKey[];
  policy: 'spec' | 'prototype';
  /** The commitment checker (skip = the request's skipCommitmentCheck). */
  commitments(skip: boolean): Promise<CommitmentChecker>;
  /** The offline CT bundle's info, as `emblem verify --ct-bundle` adds it to the report, or null. */
  ctBundle(now: Date, skip: boolean): Promise<{ path: string; createdAt: string; ageSeconds: number } | null>;
  /** The CT logs of the server's log list, to name the log IDs tokens carry; absent or [] when CT is not checked. */
  ctLogs?(): Promise<CtLogView[]>;
}

/** One log of the log list as GET /api/ct/logs answers it. */
export interface CtLogView {
  /** Standard base64 of the log ID, as JWS-era tokens carry it. */
  id: string;
  kind: 'rfc6962' | 'tiled';
  description: string;
  operator: string;
  url: string | null;
}

export interface CheckSettings {
  /** Default resolver ("ip[:port]" or "system") or DoH URL, as the CLI flags. */
  resolver?: string;
  doh?: string;
  /** Whether a request may name its own resolver (?resolver=). */
  requestResolver: boolean;
  era: 'jws' | 'cwt' | 'any';
  ihleType: number;
  timeoutMs: number;
  attempts: number;
}

/** One write action, as the audit log records it. */
export interface AuditEvent {
  time: string;
  token: string | null;
  method: string;
  route: string;
  status: number;
  outcome: 'ok' | 'denied' | 'failed';
  detail?: Record<string, unknown>;
}

export type { Material };
