'use strict';
// Transitional: the config moved to lib/config (index.cjs). Kept only for importers outside this change; remove
// once they import lib/config/index.cjs.
module.exports = require('./config/index.cjs');
