/** Bounds of the authority workflow; each with the reason for its value. */
export const AuthorityLimits = {
  /** A request carries one key, a few log entries and constraints: 64 KiB is generous and keeps parsing cheap. */
  maxRequestBytes: 64 * 1024,
  /** A response carries one or two tokens and a key. */
  maxResponseBytes: 64 * 1024,
  /** Asset constraints a request may ask for (an organisation with more asks for a wildcard or a prefix). */
  maxConstraintAssets: 1000,
  /** Log entries of a binding certificate (CT policies ask for 2-3 SCTs). */
  maxLogEntries: 16,
  maxContactChars: 2000,
  /** Default oldest request `review`/`grant` accept: an old request may name a key since rotated. */
  defaultMaxRequestAgeSeconds: 30 * 86_400,
  /** A request from further in the future than this is refused (clock skew allowance). */
  maxFutureSkewSeconds: 3600,
} as const;
