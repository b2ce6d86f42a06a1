// Node, `import ... from 'bindspace'`: the same instance as `require`
// (this re-exports the CommonJS glue), ready at once, no top-level await.
export * from './bindspace_wasm.cjs';
export {
  BindSpaceError, AddressError, FingerprintError, CapacityError, LogError, CommandError, OptionsError,
} from '@ERRORS_JS@';
