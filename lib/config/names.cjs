'use strict';
// Names shared by the stacks and the runner that are not a stack output: the release ledger's SSM path (the
// runner writes and reads it; the ci-access stack grants the rollout role access to it). The rest of the
// environment's names are built in stacks/names.ts.

/** `/<namePrefix>/releases`: the release ledger's parameter path. @param {string} namePrefix */
const ledgerPath = (namePrefix) => `/${namePrefix}/releases`;

/**
 * `/<namePrefix>/lock`: the environment's lock parameter (runner/ledger/lock.mjs), a sibling of the ledger path
 * (not under it: the ledger's readers list that path). @param {string} namePrefix
 */
const lockName = (namePrefix) => `/${namePrefix}/lock`;

module.exports = { ledgerPath, lockName };
