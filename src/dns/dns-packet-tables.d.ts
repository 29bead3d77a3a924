// dns-packet's name tables (classes.js, opcodes.js, rcodes.js, types.js: CommonJS files of the package;
// @types/dns-packet declares only its index). Each maps a code to its mnemonic.
declare module 'dns-packet/*.js' {
  const table: { toString(code: number): string };
  export default table;
}
