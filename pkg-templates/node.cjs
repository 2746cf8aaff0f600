// Node, CommonJS: `require('seqlens')`. The package is ES modules; Node 20.19+ and 22.12+
// load them through require() (the same module instance as `import`), and older Node cannot,
// so it gets an error that says what to do instead of ERR_REQUIRE_ESM's stack.
'use strict';
try {
  module.exports = require('./node.js');
} catch (e) {
  if (e && e.code === 'ERR_REQUIRE_ESM') {
    throw new Error(
      `seqlens is an ES module, and this Node (${process.version}) cannot require() one: ` +
        'Node 20.19+ and 22.12+ can (unless run with --no-experimental-require-module); ' +
        "or load it with `await import('seqlens')`",
    );
  }
  throw e;
}
