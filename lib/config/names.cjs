'use strict';
// Names shared by the stacks and the runner that are not a stack output: the release ledger's SSM path (the
// runner writes and reads it; the ci-access stack grants the rollout role access to it). The rest of the
// environment's names are built in stacks/names.ts.

/** `/<namePrefix>/releases`: the release ledger's parameter path. @param {string} namePrefix */
const ledgerPath = (namePrefix) => `/${namePrefix}/releases`;

module.exports = { ledgerPath };
