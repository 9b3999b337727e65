// The count of AWS calls a run made, by operation (every client of runner/aws/clients.mjs adds to it; the
// report, the summary and the ledger's accounting read it).

/**
 * @typedef {object} CallCounter
 * @property {number} total
 * @property {Record<string, number>} byOperation `Client.Operation` -> requests
 */

/** @returns {CallCounter} */
export function createCallCounter() {
  return { total: 0, byOperation: {} };
}
