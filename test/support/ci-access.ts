// Shared by the ci-access unit tests: synthesize both stacks in-process for a raw config.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { buildApp } from '../../main';
import { parseConfig } from '../../stacks/config';

/** A `ci` section with every part (Terraform Cloud included). */
export const CI = { repository: 'acme/staging-rollout', terraformCloud: { organization: 'acme', workspace: 'staging-foundation' } };
/** An S3 backend (state access statements appear only with one). */
export const S3 = { type: 's3', bucket: 'acme-tf-state', key: 'staging-rollout/foundation.tfstate', useLockfile: true };

/** Where synthBoth writes: a local backend's path is relative to `<SYNTH_OUTDIR>/stacks/<stack id>`. */
export const SYNTH_OUTDIR = path.join(os.tmpdir(), 'staging-rollout-stack-tests');

/** Synthesized JSON of both stacks for a raw config (ciAccess null when the config has no `ci`). */

export function synthBoth(raw: unknown): { foundation: any; ciAccess: any | null } {
  const outdir = SYNTH_OUTDIR;
  fs.mkdirSync(outdir, { recursive: true });
  const { stack, ciAccess } = buildApp(parseConfig(raw, 'config/staging.json'), { outdir });
  return { foundation: JSON.parse(Testing.synth(stack)), ciAccess: ciAccess ? JSON.parse(Testing.synth(ciAccess)) : null };
}
