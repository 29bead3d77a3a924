// dns-packet's name tables (CommonJS files of the package; @types/dns-packet declares only its index).
declare module 'dns-packet/classes.js' {
  const table: { toString(code: number): string };
  export default table;
}
declare module 'dns-packet/opcodes.js' {
  const table: { toString(code: number): string };
  export default table;
}
declare module 'dns-packet/rcodes.js' {
  const table: { toString(code: number): string };
  export default table;
}
declare module 'dns-packet/types.js' {
  const table: { toString(code: number): string };
  export default table;
}
