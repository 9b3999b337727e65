// The local data plane's ECS (scripts/lib/dataplane/engine.mjs) on real parts: moto_server keeps the books, real
// Docker runs the tasks, the fault proxy overlays what moto cannot answer. An SDK client pointed at the proxy
// sees ECS: a one-off task's real exit code and log lines, TaskFailedToStart for a volume Fargate cannot mount,
// a service deployment that completes, and one whose tasks exit at start, tripping the circuit breaker, which
// rolls back to the last completed revision; container health checks (a passing one makes the task HEALTHY, a
// failing one makes it UNHEALTHY and, in a service, replaced and counted failed).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { jest } from '@jest/globals';
import {
  ECSClient, CreateClusterCommand, RegisterTaskDefinitionCommand, RunTaskCommand, DescribeTasksCommand, CreateServiceCommand,
  UpdateServiceCommand, DescribeServicesCommand, ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { ECRClient } from '@aws-sdk/client-ecr';
import { CloudWatchLogsClient, CreateLogGroupCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { SecretsManagerClient, CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { startMoto } from '../../scripts/lib/moto.mjs';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';
import { dockerStatus, ecrCredentials, startRegistry } from '../../scripts/lib/docker.mjs';
import { run } from '../../scripts/lib/proc.mjs';
import { startEngine, createNetwork, sweepLeftovers, failureThreshold } from '../../scripts/lib/dataplane/engine.mjs';

const require = createRequire(import.meta.url);
const { recordSkip } = require('../../scripts/lib/skips.cjs');
const strict = process.env.CI === 'true' || process.env.STAGING_ROLLOUT_REQUIRE_INTEGRATION === '1';
const SUITE = 'data plane engine (ECS tasks as Docker containers)';
const REGION = 'us-east-1';
const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const why = dockerStatus();
const usable = why.reason === null && why.running && fs.existsSync('/bin/busybox');

jest.setTimeout(240_000);

/** @template T @param {() => Promise<T | undefined>} fn @param {number} ms @returns {Promise<T>} */
async function until(fn, ms, what = 'condition') {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

if (!usable) {
  describe(SUITE, () => {
    test('SKIPPED: Docker (running) and /bin/busybox are needed (recorded with the reason)', () => {
      const reason = why.reason ?? (why.running ? '/bin/busybox missing (busybox-static)' : 'dockerd is not running');
      if (strict) throw new Error(`${SUITE} needs Docker on CI: ${reason}`);
      recordSkip({ suite: SUITE, reason });
      expect(reason).toMatch(/\S{5,}/); // the skip record names why, never an empty reason
    });
  });
} else {
  describe(SUITE, () => {
    /** @type {any} */ let moto; /** @type {any} */ let registry; /** @type {any} */ let proxy; /** @type {any} */ let engine; /** @type {any} */ let network;
    /** @type {ECSClient} */ let ecs;
    /** @type {CloudWatchLogsClient} */ let logs;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-engine-'));
    const runId = `t${process.pid}`;
    const ecrImage = '000000000000.dkr.ecr.us-east-1.amazonaws.com/dp-test/app:v1';
    /** @type {string} */ let secretArn;
    /** @type {string[]} */ let subnets;
    /** @type {string[]} */ let groups;
    const GROUP = '/dp-test/app';

    /** @param {string} family @param {string[]} command @param {object} [extra] */
    const register = async (family, command, extra = {}) => (await ecs.send(new RegisterTaskDefinitionCommand({
      family, networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'], cpu: '256', memory: '512',
      containerDefinitions: [{
        name: 'app', image: ecrImage, essential: true, memoryReservation: 512, command,
        environment: [{ name: 'GREETING', value: 'hello from the data plane' }],
        secrets: [{ name: 'DB_PASSWORD', valueFrom: `${secretArn}:password::` }],
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': GROUP, 'awslogs-region': REGION, 'awslogs-stream-prefix': 'app' } },
        linuxParameters: { initProcessEnabled: true },
      }],
      ...extra,
    }))).taskDefinition?.taskDefinitionArn ?? '';

    /** @param {string} arn */
    const describe1 = async (arn) => (await ecs.send(new DescribeTasksCommand({ cluster: 'dp', tasks: [arn] }))).tasks?.[0];
    const service = async () => (await ecs.send(new DescribeServicesCommand({ cluster: 'dp', services: ['svc'] }))).services?.[0];

    beforeAll(async () => {
      await sweepLeftovers();
      moto = await startMoto();
      const aws = { region: REGION, endpoint: moto.endpoint, credentials: creds };
      const ecr = new ECRClient(aws);
      const login = await ecrCredentials(ecr);
      registry = await startRegistry({ dir: path.join(dir, 'registry'), creds: login });
      // a tiny real image: the static busybox, nothing else
      fs.copyFileSync('/bin/busybox', path.join(dir, 'busybox'));
      fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\n');
      const local = `${registry.host}/dp-test/app:v1`;
      for (const args of [['login', '-u', login.username, '--password-stdin', registry.host], ['build', '-q', '-t', local, dir], ['push', '-q', local]]) {
        const r = await run('docker', args, { input: args[0] === 'login' ? login.password : undefined });
        if (r.code !== 0) throw new Error(`docker ${args[0]}: ${r.stderr}`);
      }
      // a VPC and subnet for awsvpc (EC2's query API; the project does not depend on the EC2 client)
      const ec2 = async (/** @type {Record<string, string>} */ params) => {
        const res = await fetch(moto.endpoint, {
          method: 'POST', body: new URLSearchParams({ Version: '2016-11-15', ...params }).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0` },
        });
        return res.text();
      };
      const vpcId = /<vpcId>([^<]+)<\/vpcId>/.exec(await ec2({ Action: 'CreateVpc', CidrBlock: '10.9.0.0/16' }))?.[1] ?? '';
      await ec2({ Action: 'ModifyVpcAttribute', VpcId: vpcId, 'EnableDnsHostnames.Value': 'true' }); // moto's RunTask needs it
      subnets = [/<subnetId>([^<]+)<\/subnetId>/.exec(await ec2({ Action: 'CreateSubnet', VpcId: vpcId, CidrBlock: '10.9.1.0/24' }))?.[1] ?? ''];
      groups = [/<groupId>([^<]+)<\/groupId>/.exec(await ec2({ Action: 'CreateSecurityGroup', VpcId: vpcId, GroupName: 'dp-tasks', GroupDescription: 'tasks' }))?.[1] ?? ''];
      const sm = new SecretsManagerClient(aws);
      secretArn = (await sm.send(new CreateSecretCommand({ Name: 'dp-test/db', SecretString: JSON.stringify({ password: 'not-a-real-password' }) }))).ARN ?? '';
      logs = new CloudWatchLogsClient(aws);
      await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
      network = await createNetwork(runId);
      engine = await startEngine({
        motoEndpoint: moto.endpoint, region: REGION, runId, network: network.name,
        registry: { host: registry.host, ...login },
      });
      proxy = await startFaultProxy({ target: moto.endpoint, rules: engine.overlays });
      ecs = new ECSClient({ ...aws, endpoint: proxy.endpoint });
      await ecs.send(new CreateClusterCommand({ clusterName: 'dp' }));
    });

    afterAll(async () => {
      await engine?.close();
      await network?.remove();
      await proxy?.close();
      registry?.stop();
      await moto?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      const left = await run('docker', ['ps', '-aq', '--filter', `label=staging-rollout.run=${runId}`]);
      expect(left.stdout.trim()).toBe(''); // close() removed every container it started
    });

    const runTask = async (/** @type {string} */ td, /** @type {string[]} */ command) => {
      const res = await ecs.send(new RunTaskCommand({
        cluster: 'dp', taskDefinition: td, launchType: 'FARGATE', startedBy: 'dp-test',
        networkConfiguration: { awsvpcConfiguration: { subnets, securityGroups: groups, assignPublicIp: 'DISABLED' } },
        overrides: { containerOverrides: [{ name: 'app', command }] }, tags: [{ key: 'release', value: 'r1' }],
      }));
      expect(res.failures ?? []).toEqual([]);
      return /** @type {string} */ (res.tasks?.[0]?.taskArn);
    };

    test('RunTask: the container really runs with its environment and resolved secret; its exit code and log lines come back', async () => {
      const td = await register('dp-oneoff', ['/bin/busybox', 'true']);
      const arn = await runTask(td, ['/bin/busybox', 'sh', '-c', 'echo "$GREETING"; echo "pw=$DB_PASSWORD"; exit 3']);
      const t = await until(async () => { const x = await describe1(arn); return x?.lastStatus === 'STOPPED' ? x : undefined; }, 60_000, 'the task to stop');
      expect(t.stopCode).toBe('EssentialContainerExited');
      expect(t.containers?.[0]?.exitCode).toBe(3);
      // real times of a real container: created <= started <= stopped, and it ran (a shell, then exit)
      expect(t.createdAt?.getTime()).toBeLessThanOrEqual(/** @type {Date} */ (t.startedAt).getTime());
      expect(t.stoppedAt?.getTime()).toBeGreaterThanOrEqual(/** @type {Date} */ (t.startedAt).getTime());
      const ev = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: `app/app/${arn.split('/').pop()}`, startFromHead: true }));
      // shipped before the task showed STOPPED
      expect((ev.events ?? []).map((e) => e.message)).toEqual(['hello from the data plane', 'pw=not-a-real-password']);
      const tagged = await ecs.send(new DescribeTasksCommand({ cluster: 'dp', tasks: [arn], include: ['TAGS'] }));
      expect(tagged.tasks?.[0]?.tags).toEqual([{ key: 'release', value: 'r1' }]); // the migration's rerun detection reads them
      const ok = await runTask(td, ['/bin/busybox', 'true']);
      const t0 = await until(async () => { const x = await describe1(ok); return x?.lastStatus === 'STOPPED' ? x : undefined; }, 60_000, 'the second task');
      expect(t0.containers?.[0]?.exitCode).toBe(0);
    });

    test('a task definition the data plane (and Fargate) cannot run fails to start with the reason, as ECS says it', async () => {
      const td = await register('dp-hostvol', ['/bin/busybox', 'true'], { volumes: [{ name: 'h', host: { sourcePath: '/etc' } }] });
      const arn = await runTask(td, ['/bin/busybox', 'true']);
      const t = await until(async () => { const x = await describe1(arn); return x?.lastStatus === 'STOPPED' ? x : undefined; }, 30_000, 'the task to stop');
      expect(t.stopCode).toBe('TaskFailedToStart');
      expect(t.stoppedReason).toMatch(/volume h: a host volume is not supported/);
    });

    test('a service deployment starts its tasks and completes; ListTasks filters by service', async () => {
      const good = await register('dp-svc', ['/bin/busybox', 'sh', '-c', 'echo up; exec /bin/busybox sleep 600']);
      await ecs.send(new CreateServiceCommand({
        cluster: 'dp', serviceName: 'svc', taskDefinition: good, desiredCount: 0, launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets, securityGroups: groups, assignPublicIp: 'DISABLED' } },
      }));
      await ecs.send(new UpdateServiceCommand({ cluster: 'dp', service: 'svc', taskDefinition: good, desiredCount: 2 }));
      const s = await until(async () => {
        const x = await service();
        return x?.deployments?.length === 1 && x.deployments[0].rolloutState === 'COMPLETED' && x.runningCount === 2
          && x.events?.[0]?.message === '(service svc) has reached a steady state.' ? x : undefined;
      }, 60_000, 'the deployment to complete');
      expect(s.taskDefinition).toBe(good);
      expect((s.events ?? []).filter((e) => /has started 1 tasks/.test(e.message ?? ''))).toHaveLength(2);
      const listed = await ecs.send(new ListTasksCommand({ cluster: 'dp', serviceName: 'svc' }));
      expect(listed.taskArns).toHaveLength(2);
      const described = await ecs.send(new DescribeTasksCommand({ cluster: 'dp', tasks: listed.taskArns }));
      expect(described.tasks?.map((t) => [t.lastStatus, t.group, t.startedBy])).toEqual([
        ['RUNNING', 'service:svc', s.deployments?.[0].id], ['RUNNING', 'service:svc', s.deployments?.[0].id]]);
      expect((await ecs.send(new ListTasksCommand({ cluster: 'dp', serviceName: 'other' }))).taskArns).toEqual([]);
    });

    test('tasks that exit at start trip the circuit breaker: the deployment FAILS and rolls back to the last completed revision', async () => {
      const before = await service();
      const bad = await register('dp-svc', ['/bin/busybox', 'sh', '-c', 'echo "cannot start" >&2; exit 1']);
      await ecs.send(new UpdateServiceCommand({ cluster: 'dp', service: 'svc', taskDefinition: bad, desiredCount: 2 }));
      const back = await until(async () => {
        const x = await service();
        return x?.deployments?.length === 1 && x.deployments[0].rolloutState === 'COMPLETED' && x.runningCount === 2
          && (x.events ?? []).some((e) => /rolling back/.test(e.message ?? '')) ? x : undefined;
      }, 90_000, 'the circuit breaker and the rollback to settle');
      expect(back.taskDefinition).toBe(before?.taskDefinition);
      // (the FAILED deployment itself is listed only while its tasks drain: gone once they all stopped, as in ECS)
      const stopped = await ecs.send(new ListTasksCommand({ cluster: 'dp', serviceName: 'svc', desiredStatus: 'STOPPED' }));
      const d = await ecs.send(new DescribeTasksCommand({ cluster: 'dp', tasks: stopped.taskArns }));
      const failedTasks = (d.tasks ?? []).filter((t) => t.taskDefinitionArn === bad);
      expect(failedTasks.length).toBeGreaterThanOrEqual(failureThreshold(2));
      expect(failedTasks.every((t) => t.stopCode === 'EssentialContainerExited' && t.containers?.[0]?.exitCode === 1)).toBe(true);
      const events = (back.events ?? []).map((e) => e.message ?? '');
      expect(events.some((m) => /deployment failed: tasks failed to start/.test(m))).toBe(true);
      expect(events.some((m) => /rolling back to deployment/.test(m))).toBe(true);
    });
    test('container health checks: a passing check makes a task HEALTHY; a failing one makes a service task UNHEALTHY, replaced and counted failed, and never counted toward the deployment', async () => {
      const sleeper = ['/bin/busybox', 'sh', '-c', 'exec /bin/busybox sleep 600'];
      /** @param {string} family @param {string[]} check */
      const withCheck = async (family, check) => {
        const r = await ecs.send(new RegisterTaskDefinitionCommand({
          family, networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'], cpu: '256', memory: '512',
          containerDefinitions: [{
            name: 'app', image: ecrImage, essential: true, memoryReservation: 512, command: sleeper,
            linuxParameters: { initProcessEnabled: true },
            healthCheck: { command: check, interval: 5, timeout: 2, retries: 1, startPeriod: 0 },
          }],
        }));
        return r.taskDefinition?.taskDefinitionArn ?? '';
      };
      // a standalone task with a passing check: UNKNOWN at first, then HEALTHY (task and container)
      const good = await withCheck('dp-hc-ok', ['CMD', '/bin/busybox', 'true']);
      const one = await runTask(good, sleeper);
      const first = await until(async () => { const x = await describe1(one); return x?.lastStatus === 'RUNNING' ? x : undefined; }, 30_000, 'the task to run');
      expect(first.healthStatus).toBe('UNKNOWN');
      const healthy = await until(async () => { const x = await describe1(one); return x?.healthStatus === 'HEALTHY' ? x : undefined; }, 30_000, 'the task to be HEALTHY');
      expect(healthy.containers?.[0]?.healthStatus).toBe('HEALTHY');

      // a service deployment whose check fails: each task UNHEALTHY, stopped by the scheduler and counted failed,
      // so the circuit breaker trips and rolls back to the revision whose check passes, which completes once HEALTHY
      const bad = await withCheck('dp-hc', ['CMD', '/bin/busybox', 'false']);
      await ecs.send(new CreateServiceCommand({
        cluster: 'dp', serviceName: 'hc', taskDefinition: good, desiredCount: 0, launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets, securityGroups: groups, assignPublicIp: 'DISABLED' } },
      }));
      await ecs.send(new UpdateServiceCommand({ cluster: 'dp', service: 'hc', taskDefinition: bad, desiredCount: 1 }));
      const back = await until(async () => {
        const x = (await ecs.send(new DescribeServicesCommand({ cluster: 'dp', services: ['hc'] }))).services?.[0];
        return x?.deployments?.length === 1 && x.deployments[0].rolloutState === 'COMPLETED' && x.runningCount === 1
          && (x.events ?? []).some((e) => /rolling back/.test(e.message ?? '')) ? x : undefined;
      }, 120_000, 'the breaker to trip on container health checks and the rollback to complete');
      expect(back.taskDefinition).toBe(good);
      expect((back.events ?? []).some((e) => /deployment failed: tasks failed to start/.test(e.message ?? ''))).toBe(true);
      // the rollback completed with a HEALTHY task: only HEALTHY counts
      const live = await ecs.send(new ListTasksCommand({ cluster: 'dp', serviceName: 'hc' }));
      const now = await ecs.send(new DescribeTasksCommand({ cluster: 'dp', tasks: live.taskArns }));
      expect((now.tasks ?? []).map((t) => [t.taskDefinitionArn, t.healthStatus])).toEqual([[good, 'HEALTHY']]);
      const stopped = await ecs.send(new ListTasksCommand({ cluster: 'dp', serviceName: 'hc', desiredStatus: 'STOPPED' }));
      const d = await ecs.send(new DescribeTasksCommand({ cluster: 'dp', tasks: stopped.taskArns }));
      const failed = (d.tasks ?? []).filter((t) => t.taskDefinitionArn === bad);
      const unhealthy = failed.filter((t) => t.stoppedReason === 'Task failed container health checks');
      expect(unhealthy.length).toBeGreaterThanOrEqual(failureThreshold(1));
      expect(unhealthy.map((t) => [t.stopCode, t.healthStatus, t.containers?.[0]?.healthStatus])).toEqual(
        unhealthy.map(() => ['ServiceSchedulerInitiated', 'UNHEALTHY', 'UNHEALTHY']));
      // a replacement started while the last failed task was stopping is stopped by the rollback, as in ECS
      expect(failed.filter((t) => !unhealthy.includes(t)).map((t) => /^Scaling activity initiated by \(deployment /.test(t.stoppedReason ?? ''))).not.toContain(false);
      await ecs.send(new UpdateServiceCommand({ cluster: 'dp', service: 'hc', desiredCount: 0 }));
    });
  });
}
