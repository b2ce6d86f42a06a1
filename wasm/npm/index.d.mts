export * from './bindspace_wasm.cjs';
export * from './errors.js';
