export * from './bindspace_wasm.js';
export { default } from './bindspace_wasm.js';
export * from './errors.js';
