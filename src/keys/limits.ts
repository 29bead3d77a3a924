/** Bounds of the key-store adapters (src/keys). */
export const KeyStoreLimits = {
  /** Objects read per C_FindObjects call while looking a key up by label: a label names one key pair. */
  maxFindObjects: 16,
  /** A PIN file is one short line; anything larger is not a PIN file. */
  maxPinFileBytes: 1_024,
  /** PKCS#11 labels are UTF-8 strings; tokens commonly cap them at 32 bytes in the token info, objects allow more. */
  maxLabelBytes: 128,
} as const;
