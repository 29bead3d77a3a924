/**
 * The lists real users trust by default (SPEC-NOTES §4.1); both prototypes merge these two. A module of its own so
 * the CLI can name them in its --help without loading the log-list client (./log-list-source.ts re-exports them).
 */
export const DEFAULT_LOG_LIST_URLS = [
  'https://www.gstatic.com/ct/log_list/v3/log_list.json',
  'https://valid.apple.com/ct/log_list/current_log_list.json',
] as const;
