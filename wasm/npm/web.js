// Browsers, bundlers and edge workers: an ES module with no top-level
// await. Call one of these before anything else:
//   await init();                      // browsers: fetches bindspace.wasm beside this file
//   initSync({ module: wasmModule });  // edge workers: a precompiled WebAssembly.Module
export * from './bindspace_wasm.js';
export { default } from './bindspace_wasm.js';
export {
  BindSpaceError, AddressError, FingerprintError, CapacityError, LogError, CommandError, OptionsError,
} from '@ERRORS_JS@';
