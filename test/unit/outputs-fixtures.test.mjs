// The outputs fixtures (scripts/outputs-fixtures.mjs): test/fixtures/outputs/*.json are the foundation stack's
// outputs for the shipped config as synthesized now, resolved as an apply would resolve them, not a hand-kept
// copy. A change of the stack's outputs or of the catalog shows here; `npm run fixtures` accepts it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveOutputs, terraformType, ACCOUNT } from '../../scripts/outputs-fixtures.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('outputs fixtures', () => {
  test('the committed fixtures are what the stack\'s outputs resolve to now (npm run fixtures -- --check)', () => {
    const res = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'outputs-fixtures.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
  }, 120_000);

  const stack = (output) => ({
    provider: { aws: [{ region: 'eu-west-1' }] },
    resource: {
      aws_ecs_cluster: { c: { name: 'qa-cluster' } },
      aws_subnet: { a: { cidr_block: '10.0.0.0/24' }, b: { cidr_block: '10.0.1.0/24' } },
      aws_ecs_service: { s: { name: '${aws_ecs_cluster.c.name}-x' } },
    },
    output,
  });

  test('a configured attribute is its value, a computed one a fake in AWS\'s shape; one reference is one value', () => {
    const o = resolveOutputs(stack({
      name: { value: '${aws_ecs_cluster.c.name}' },
      arn: { value: 'arn=${aws_ecs_cluster.c.arn}' },
      subnets: { value: ['${aws_subnet.a.id}', '${aws_subnet.b.id}', '${aws_subnet.a.id}'] },
      plain: { value: { n: 1, off: null } },
    }));
    expect(o.name).toBe('qa-cluster');
    expect(o.arn).toBe(`arn=arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/qa-cluster`);
    const [a, b, a2] = /** @type {string[]} */ (o.subnets);
    expect(a).toMatch(/^subnet-[0-9a-f]{17}$/);
    expect(b).not.toBe(a);
    expect(a2).toBe(a);
    expect(o.plain).toEqual({ n: 1, off: null });
  });

  test('a computed attribute without a fake, or an attribute set from another reference, fails naming the reference', () => {
    expect(() => resolveOutputs(stack({ x: { value: '${aws_subnet.a.arn}' } }))).toThrow('${aws_subnet.a.arn}: aws_subnet.arn is computed by AWS');
    expect(() => resolveOutputs(stack({ x: { value: '${aws_ecs_service.s.name}' } }))).toThrow('${aws_ecs_service.s.name}: aws_ecs_service.name is computed');
    expect(() => resolveOutputs(stack({ x: { value: '${aws_ecs_cluster.nope.name}' } }))).toThrow('no resource aws_ecs_cluster.nope');
  });

  test('terraform types as `terraform output -json` prints them', () => {
    expect(terraformType({ a: ['x', 1], b: true, c: null })).toEqual(['object', { a: ['tuple', ['string', 'number']], b: 'bool', c: 'dynamic' }]);
  });
});
