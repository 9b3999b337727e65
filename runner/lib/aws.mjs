// Moved to runner/aws/clients.mjs; this re-export keeps main.mjs and images/cli.mjs working until they import it.
export { createAwsClients, createCallCounter, countCalls } from '../aws/clients.mjs';
/** @typedef {import('../aws/clients.mjs').AwsClients} AwsClients */
/** @typedef {import('../aws/clients.mjs').CallCounter} CallCounter */
