'use strict';
// Node, `require('bindspace')`: the CommonJS glue reads the .wasm
// synchronously, so everything is ready as soon as this returns.
// The error classes come from the same module instance the glue throws
// from, so `instanceof` holds.
const glue = require('./bindspace_wasm.cjs');
const {
  BindSpaceError, AddressError, FingerprintError, CapacityError, LogError, CommandError, OptionsError,
} = require('@ERRORS_JS@');

module.exports = {
  ...glue,
  BindSpaceError, AddressError, FingerprintError, CapacityError, LogError, CommandError, OptionsError,
};
