// Where a stack keeps its Terraform state, from the config's backend (lib/config/schema.cjs: completeBackend
// applies its defaults). `foundation` uses it as configured; other stacks of the same environment (`ci-access`)
// use a sibling state derived by stackBackend, so each stack has its own state and lock.
import * as path from 'path';
import { App, CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformStack } from 'cdktf';
import { localStatePath } from '../lib/config/index.cjs';
import type { BackendConfig } from './config';
import { PropsError } from './util';

/** The backend block of `stack`. */
export function configureBackend(stack: TerraformStack, b: BackendConfig): void {
  switch (b.type) {
    case 'local':
      // relative to the directory Terraform runs in (<outdir>/stacks/<stack>), so the synthesized JSON names
      // no machine path; the file itself lives outside cdktf.out, one per environment (docs/environments.md)
      new LocalBackend(stack, { path: path.relative(path.join(App.of(stack).outdir, 'stacks', stack.node.id), localStatePath(b)) });
      return;
    case 's3': {
      const backend = new S3Backend(stack, {
        bucket: b.bucket,
        key: b.key,
        region: b.region,
        encrypt: true,
        ...(b.kmsKeyId ? { kmsKeyId: b.kmsKeyId } : {}),
        ...(b.dynamodbTable ? { dynamodbTable: b.dynamodbTable } : {}),
      });
      // use_lockfile (Terraform >= 1.10) is not in cdktf 0.21's S3Backend props
      if (b.useLockfile) backend.addOverride('use_lockfile', true);
      return;
    }
    case 'cloud':
      new CloudBackend(stack, { hostname: b.hostname, organization: b.organization, workspaces: new NamedCloudWorkspace(b.workspace) });
      return;
    default:
      throw new PropsError(stack.node.id, `unknown backend type ${JSON.stringify((b as { type: unknown }).type)}`);
  }
}

/**
 * The state of another stack of the same environment: the foundation's file or key with `.<stackId>` before
 * `.tfstate` (same directory, bucket, lock settings), or the workspace `<workspace>-<stackId>`.
 */
export function stackBackend(b: BackendConfig, stackId: string): BackendConfig {
  const sibling = (p: string) => (p.endsWith('.tfstate') ? `${p.slice(0, -'.tfstate'.length)}.${stackId}.tfstate` : `${p}.${stackId}`);
  switch (b.type) {
    case 'local':
      return { ...b, path: sibling(b.path) };
    case 's3':
      return { ...b, key: sibling(b.key) };
    case 'cloud':
      return { ...b, workspace: `${b.workspace}-${stackId}` };
    default:
      return b;
  }
}
