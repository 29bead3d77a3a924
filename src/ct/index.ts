/**
 * Certificate Transparency adapter: what the engine, the CLI, the demo and tests use. See docs/ct.md.
 */
export { CtCommitmentChecker, type CtCommitmentCheckerOptions, type CommitmentPolicy, type DetailedCommitmentOutcome, type LogEntryReport } from './commitment-checker.js';
export { loadLogLists, DEFAULT_LOG_LIST_URLS, defaultCacheDir, clearLogListMemoryCache } from './log-list-source.js';
export { LogDirectory, parseLogList, type ListedLog } from './log-list.js';
export { TreeHeadStore } from './tree-head-store.js';
export { checkBinding, type BindingPolicy, type BindingResult } from './binding.js';
export { logEntriesFromChain, leafHashOf, x509EntryFor, type LogEntryJson } from './leaf-hash.js';
export { parsePemCertificates, summarizeCertificate, toPem } from './certificate.js';
export { startLocalCtLog, type RunningLocalCtLog, type StartLocalCtLogOptions } from './local-log/start-local-ct-log.js';
export { createLocalCa, issueBindingCertificate, issueLoggedCertificate, issueCertificate, bindingNames, type LocalCa, type LoggedCertificate } from './local-ca.js';
export { submitChain } from './submission.js';
export { CtErrorCodes, type CtErrorCode } from './errors.js';
export { CertificateSet, validateCertificateChain, type ChainReport, type ChainToValidate, type ValidatedChain } from './chain-validation.js';
