// The foundation's task execution role and task roles against what ECS and the app do with them, with the real
// IAM simulator: a declared list of requests per role (below, from the config's catalog and names), evaluated
// against the synthesized aws_iam_policy_document of that role. Every request must be allowed, every allowed
// action must be used by one, and removing any statement must deny one.
//   execution role: ECR login and pull of the service's image, its log stream, its secrets (decrypted with the
//                   environment key through Secrets Manager)
//   task role:      EFS through the access point (rw or ro) for `data` mounts, elasticache:Connect (cache.auth "iam" only) for services
//                   with the `cache` secret, ECS Exec (ssmmessages channels, the exec log group, the key)
import { synth, Synth } from '../support/stack';
import { parseConfig } from '../../stacks/config';
import { ResourceNames } from '../../stacks/names';
import { stagingWith } from '../support/stack';
// eslint-disable-next-line @typescript-eslint/no-var-requires
const proof = require('../support/iam-proof.cjs');

/** The whole proof for one cache mode: the task roles differ by elasticache:Connect. */
function suite(mode: 'password' | 'iam'): void {
  const raw = stagingWith((c) => { c.cache = { ...c.cache, auth: mode }; });
  const s: Synth = synth(raw);
  const cfg = parseConfig(raw);
  const names = new ResourceNames(cfg.config.namePrefix);
  const enabled = cfg.services.filter((x) => x.enabled);
  const ACCOUNT = proof.TEST_WHERE.accountId;
  const A = (service: string, rest: string) => `arn:aws:${service}:${cfg.config.region}:${ACCOUNT}:${rest}`;

  /** Concrete ARNs for the references in the policies (what AWS would hold after the apply). */
  function resolve(text: string): string {
    return text
      .replace(/\$\{data\.aws_caller_identity\.caller\.account_id\}/g, ACCOUNT)
      .replace(/\$\{data\.aws_partition\.partition\.partition\}/g, 'aws')
      .replace(/\$\{aws_([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.arn\}/g, (_m, type: string, addr: string) => {
        const body = s.json.resource[`aws_${type}`][addr];
        switch (type) {
          case 'kms_key': return A('kms', 'key/0000-test-key');
          case 'ecr_repository': return A('ecr', `repository/${body.name}`);
          case 'cloudwatch_log_group': return A('logs', `log-group:${body.name}`);
          case 'secretsmanager_secret': return A('secretsmanager', `secret:${body.name}-Ab12Cd`);
          case 'efs_file_system': return A('elasticfilesystem', 'file-system/fs-0test');
          case 'efs_access_point': return A('elasticfilesystem', 'access-point/fsap-0test');
          default: throw new Error(`no test ARN for aws_${type}`);
        }
      });
  }

  /** The policy JSON of an aws_iam_policy_document data source whose name starts with `prefix`. */
  function policyOf(prefix: string) {
    const [, doc] = s.data('aws_iam_policy_document').find(([k]) => k.startsWith(prefix)) ?? [];
    if (!doc) throw new Error(`no policy document ${prefix}*`);
    const statement = doc.statement.map((st: any) => ({
      Sid: st.sid,
      Effect: st.effect ?? 'Allow',
      Action: st.actions,
      Resource: st.resources,
      ...(st.principals ? { Principal: Object.fromEntries(st.principals.map((x: any) => [x.type, x.identifiers])) } : {}),
      ...(st.condition ? { Condition: Object.fromEntries(st.condition.map((c: any) => [c.test, { [c.variable]: c.values }])) } : {}),
    }));
    return JSON.parse(resolve(JSON.stringify({ Version: '2012-10-17', Statement: statement })));
  }

  const r = (action: string, resource: string, context: Record<string, string> = {}) => ({ action, resource, context, call: 'declared' });
  const key = A('kms', 'key/0000-test-key');

  /** What ECS does with the execution role when it starts every enabled service and the migration. */
  function executionRequests() {
    const images = [...new Set([...enabled.map((x) => x.image), cfg.config.migration.image])];
    const secrets = [...new Set([...enabled.flatMap((x) => x.secrets), ...cfg.config.migration.secrets])];
    return [
      r('ecr:GetAuthorizationToken', '*'),
      ...images.flatMap((i) => ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'].map((a) => r(a, A('ecr', `repository/${names.repository(i)}`)))),
      ...[...enabled.map((x) => x.name), 'migration'].flatMap((n) => ['logs:CreateLogStream', 'logs:PutLogEvents']
        .map((a) => r(a, A('logs', `log-group:${names.logGroup(n)}:log-stream:${n}/${n}/0123456789abcdef`)))),
      ...secrets.map((k) => r('secretsmanager:GetSecretValue', A('secretsmanager', `secret:${names.secret(k)}-Ab12Cd`))),
      r('kms:Decrypt', key, { 'kms:ViaService': `secretsmanager.${cfg.config.region}.amazonaws.com` }),
    ];
  }

  /** What a service's (or the migration's) containers do with its task role. */
  function taskRequests(name: string) {
    const svc = enabled.find((x) => x.name === name);
    const data = svc?.mounts.filter((m) => m.volume === 'data') ?? [];
    // elasticache:Connect only where the cache authenticates by IAM token (cache.auth "iam"); a password needs none
    const cache = cfg.config.cache.auth === 'iam'
      && (name === 'migration' ? cfg.config.migration.secrets.includes('cache') : svc!.secrets.includes('cache'));
    const out = [];
    if (data.length) {
      const ap = { 'elasticfilesystem:AccessPointArn': A('elasticfilesystem', 'access-point/fsap-0test') };
      out.push(r('elasticfilesystem:ClientMount', A('elasticfilesystem', 'file-system/fs-0test'), ap));
      if (data.some((m) => !m.readOnly)) out.push(r('elasticfilesystem:ClientWrite', A('elasticfilesystem', 'file-system/fs-0test'), ap));
    }
    if (cache) {
      out.push(r('elasticache:Connect', A('elasticache', `replicationgroup:${cfg.config.namePrefix}-valkey`)), r('elasticache:Connect', A('elasticache', `user:${cfg.config.namePrefix}-app`)));
    }
    if (cfg.config.cluster.enableExecuteCommand) {
      const exec = A('logs', `log-group:${names.logGroup('exec')}`);
      out.push(
        ...['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'].map((a) => r(a, '*')),
        r('logs:DescribeLogGroups', '*'), r('logs:DescribeLogStreams', exec),
        r('logs:CreateLogStream', `${exec}:log-stream:ecs-execute-command-0123`), r('logs:PutLogEvents', `${exec}:log-stream:ecs-execute-command-0123`),
        r('kms:Decrypt', key), r('kms:GenerateDataKey', key),
      );
    }
    return out;
  }

  const roles: Array<[string, string, any[]]> = [
    ['execution role', 'iam_execution-policy', executionRequests()],
    ...[...enabled.map((x) => x.name), 'migration']
      .filter((n) => s.data('aws_iam_policy_document').some(([k]) => k.startsWith(`iam_task-policy-${n}_`)))
      .map((n): [string, string, any[]] => [`task role ${n}`, `iam_task-policy-${n}_`, taskRequests(n)]),
  ];

  // KMS: an identity policy counts only where the key's own policy lets IAM decide (the synthesized key policy)
  const keyPolicy = policyOf('keys_key-policy');
  const denied = async (policy: any, reqs: any[]) =>
    (await proof.evaluate(policy, reqs, {
      principal: `arn:aws:iam::${ACCOUNT}:role/${names.executionRole}`,
      accountId: ACCOUNT,
      resourcePolicy: (req: any) => (req.action.startsWith('kms:') ? keyPolicy : undefined),
    })).filter((x: any) => x.result !== 'Allowed');

  describe(`task execution role and task roles against what ECS and the app do (iam-simulate, cache.auth ${mode})`, () => {
    test('every service with a task policy is checked', () => {
      expect(roles.length).toBeGreaterThan(2);
    });

    test.each(roles)('%s: every declared request allowed; every allowed action used; each statement needed', async (_name, prefix, reqs) => {
      const policy = policyOf(prefix);
      expect((await denied(policy, reqs)).map((x: any) => ({ ...x.request, result: x.result, errors: x.errors }))).toEqual([]);
      const used = new Set(reqs.map((x) => x.action));
      expect(proof.allowedActions(policy).filter((a: string) => !used.has(a))).toEqual([]);
      for (const st of policy.Statement) {
        const cut = { ...policy, Statement: policy.Statement.filter((x: any) => x !== st) };
        expect({ without: st.Sid, denied: (await denied(cut, reqs)).length > 0 }).toEqual({ without: st.Sid, denied: true });
      }
    });

    test('the execution role reads no secret a container does not get, and pulls no other environment\'s image', async () => {
      const policy = policyOf('iam_execution-policy');
      const used = new Set([...enabled.flatMap((x) => x.secrets), ...cfg.config.migration.secrets]);
      const unused = (['database', 'cache', 'app', 'smoke_user'] as const).filter((k) => !used.has(k));
      expect(unused).toContain('smoke_user');
      const wrong = [
        ...unused.map((k) => r('secretsmanager:GetSecretValue', A('secretsmanager', `secret:${names.secret(k)}-Ab12Cd`))),
        r('ecr:BatchGetImage', A('ecr', 'repository/prod/api')),
        // the environment key only through Secrets Manager: not called directly, not through another service
        r('kms:Decrypt', key),
        r('kms:Decrypt', key, { 'kms:ViaService': `s3.${cfg.config.region}.amazonaws.com` }),
      ];
      expect((await denied(policy, wrong)).length).toBe(wrong.length);
    });
  });
}

suite('password');
suite('iam');
