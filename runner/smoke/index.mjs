// The smoke suite: check definitions in report order.
import { apiHealthCheck } from './checks/api-health.mjs';
import { loginCheck } from './checks/login.mjs';
import { databaseCheck } from './checks/database.mjs';
import { workersCheck } from './checks/workers.mjs';
import { fetcherAnisetteCheck } from './checks/fetcher-anisette.mjs';
import { logsCheck } from './checks/logs.mjs';
import { targetGroupsCheck } from './checks/target-groups.mjs';

export { runCheck, runSuite } from './suite.mjs';
export { createSmokeContext } from './context.mjs';

/** @param {import('../../lib/config/index.cjs').SmokeSettings} settings @returns {import('./suite.mjs').CheckDefinition[]} */
export function buildChecks(settings) {
  return [
    apiHealthCheck(settings),
    loginCheck(settings),
    databaseCheck(settings),
    workersCheck(settings),
    fetcherAnisetteCheck(settings),
    logsCheck(settings),
    targetGroupsCheck(settings),
  ];
}
