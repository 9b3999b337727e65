// IAM's size limits on the CI roles' permissions: each role's statements are managed policies of at most 6,144
// characters (whitespace not counted, references at their longest), at most 10 per role. The rollout role grows
// with the catalog (one ARN per service, family, log group and task role), so a large catalog is split into
// several policies that together allow exactly what the one document allows (checked with the IAM simulator),
// and a catalog too large even for that is refused at synth, naming the file and the key.
import { synthBoth, CI, S3 } from '../support/ci-access';
import { stagingWith } from '../support/stack';
import { buildApp } from '../../main';
import { parseConfig } from '../../stacks/config';
import { ResourceNames } from '../../stacks/names';
import { rolloutPolicy } from '../../stacks/ci-access/rollout-policy';
import { stateRead } from '../../stacks/ci-access/state-access';
import { allow, ATTACHED_POLICIES_MAX, MANAGED_POLICY_MAX_CHARS, policy, splitPolicy, worstCaseSize } from '../../stacks/policy';
// eslint-disable-next-line @typescript-eslint/no-var-requires
const proof = require('../support/iam-proof.cjs');

/** staging with `n` more workers (each its own service, family, log group and task role) */
const withWorkers = (n: number) => stagingWith((c) => {
  c.ci = CI;
  c.backend = S3;
  for (let i = 1; i <= n; i++) c.services[`extra-worker-${i}`] = { ...c.services['notification-service'], command: ['python', '-m', `app.workers.extra_${i}`] };
});

const sizes = (json: any, key: string) => proof.rolePolicyDocuments(json, key).map((d: any) => worstCaseSize(d));

describe('CI role policies fit IAM', () => {
  const shipped = synthBoth(withWorkers(0)).ciAccess;

  test.each(['plan', 'deploy', 'rollout', 'terraform_cloud', 'terraform_cloud_plan'])('%s: managed policies under the limit, each attached to its role', (key) => {
    const docs = proof.rolePolicyDocuments(shipped, key);
    for (const s of sizes(shipped, key)) expect(s).toBeLessThanOrEqual(MANAGED_POLICY_MAX_CHARS);
    const attached = Object.values<any>(shipped.resource.aws_iam_role_policy_attachment).filter((a) => a.role === `\${aws_iam_role.${key.replace(/_/g, '-')}-role.name}`);
    expect(attached.map((a) => a.policy_arn).sort()).toEqual(docs.map((_: unknown, i: number) => `\${aws_iam_policy.${key.replace(/_/g, '-')}-policy-${i + 1}.arn}`).sort());
    expect(shipped.resource.aws_iam_role_policy ?? {}).toEqual({}); // no inline policy (10,240 characters per role)
  });

  test('a catalog of 40 more workers: the rollout role is split, every part under the limit, allowing exactly what the whole does', async () => {
    const raw = withWorkers(40);
    const { ciAccess } = synthBoth(raw);
    const parts = sizes(ciAccess, 'rollout');
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.length).toBeLessThanOrEqual(ATTACHED_POLICIES_MAX);
    for (const s of parts) expect(s).toBeLessThanOrEqual(MANAGED_POLICY_MAX_CHARS);
    // the one document before splitting, as the stack built it, and the parts together: the same answers
    const cfg = parseConfig(raw);
    const where = { ...proof.TEST_WHERE, region: cfg.config.region };
    const merged = proof.synthesizedPolicy(ciAccess, 'rollout', where);
    const names = new ResourceNames(cfg.config.namePrefix);
    const A = (svc: string, rest: string) => `arn:aws:${svc}:${cfg.config.region}:${where.accountId}:${rest}`;
    const requests = cfg.services.filter((s) => s.enabled).flatMap((s) => [
      { action: 'ecs:UpdateService', resource: A('ecs', `service/${names.cluster}/${names.service(s.name)}`), context: { 'ecs:cluster': A('ecs', `cluster/${names.cluster}`) } },
      { action: 'ecs:RegisterTaskDefinition', resource: A('ecs', `task-definition/${names.taskFamily(s.name)}:7`), context: {} },
      { action: 'logs:GetLogEvents', resource: A('logs', `log-group:${names.logGroup(s.name)}:log-stream:x`), context: {} },
      { action: 'iam:PassRole', resource: `arn:aws:iam::${where.accountId}:role/${names.taskRole(s.name)}`, context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    ]);
    const denied = (await proof.evaluate(merged, requests, { principal: `arn:aws:iam::${where.accountId}:role/x`, accountId: where.accountId }))
      .filter((r: any) => r.result !== 'Allowed').map((r: any) => `${r.request.action} ${r.request.resource}`);
    expect(requests.length).toBeGreaterThan(180);
    expect(denied).toEqual([]);
    // and nothing more: the parts hold the same statements (a cut statement's resources, reunited) as before
    const byAction = (doc: any) => {
      const m = new Map<string, string[]>();
      for (const st of doc.Statement) {
        const k = JSON.stringify([st.Effect, [...st.Action].sort(), st.Condition ?? null]);
        m.set(k, [...(m.get(k) ?? []), ...st.Resource].sort());
      }
      return m;
    };
    // the one document, built by the same function with this account and partition written out
    const env = { partition: where.partition, region: cfg.config.region, accountId: where.accountId };
    const unsplit = rolloutPolicy({
      env, names, imageKeys: Object.keys(cfg.config.images), stateRead: stateRead({ env, backend: cfg.config.backend }),
      services: cfg.services.filter((s) => s.enabled).map((s) => ({ name: s.name, kind: s.kind })),
    });
    expect(byAction(merged)).toEqual(byAction(unsplit));
  });

  test('a catalog too large for ten policies is refused at synth, naming the file and the key', () => {
    const raw = withWorkers(150);
    expect(() => buildApp(parseConfig(raw, 'config/huge.json'))).toThrow(/config\/huge\.json: ci: the rollout role's permissions need \d+ managed policies of at most 6144 characters, over the 10/);
  });
});

describe('splitPolicy', () => {
  const resources = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `arn:aws:ecs:us-east-1:123456789012:service/c/${tag}-${i}`);

  test('packs statements in order and cuts one that is too large by its resources; nothing is lost or added', () => {
    const doc = policy([
      allow('Small', ['ecs:DescribeServices'], resources(3, 'a')),
      allow('Large', ['ecs:UpdateService'], resources(60, 'b'), { ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:us-east-1:123456789012:cluster/c' } }),
      allow('Tail', ['ecs:ListTasks'], ['*']),
    ]);
    const parts = splitPolicy(doc, { max: 1500 });
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) expect(worstCaseSize(p)).toBeLessThanOrEqual(1500);
    const all = parts.flatMap((p) => p.Statement);
    expect(all[0].Sid).toBe('Small');
    expect(all[all.length - 1].Sid).toBe('Tail');
    expect(all.filter((s) => s.Sid.startsWith('LargePart')).flatMap((s) => s.Resource)).toEqual(resources(60, 'b'));
    expect(all.filter((s) => s.Sid.startsWith('LargePart')).every((s) => s.Condition?.ArnEquals?.['ecs:cluster'] === 'arn:aws:ecs:us-east-1:123456789012:cluster/c')).toBe(true);
    expect(new Set(all.map((s) => s.Sid)).size).toBe(all.length);
  });

  test('a document that fits stays one, unchanged', () => {
    const doc = policy([allow('One', ['ecs:DescribeServices'], resources(2, 'a'))]);
    expect(splitPolicy(doc)).toEqual([doc]);
  });

  test('references count at their longest; an unknown reference is refused', () => {
    const doc = policy([allow('R', ['ecs:DescribeServices'], ['arn:${data.aws_partition.partition.partition}:ecs:us-east-1:${data.aws_caller_identity.caller.account_id}:cluster/c'])]);
    expect(worstCaseSize(doc)).toBe(JSON.stringify(doc).length - '${data.aws_partition.partition.partition}'.length + 10 - '${data.aws_caller_identity.caller.account_id}'.length + 12);
    expect(() => worstCaseSize(policy([allow('R', ['ecs:DescribeServices'], ['${aws_iam_role.x.arn}'])]))).toThrow(/reference whose size is unknown/);
  });
});
