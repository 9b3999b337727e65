// CDKTF app entry: builds the `foundation` stack from a typed environment config, and the `ci-access` stack
// (CI roles, stacks/ci-access-stack.ts) when the config has a `ci` section.
//   STAGING_ROLLOUT_CONFIG=path (default config/staging.json) selects the environment.
// Tests call buildApp() in-process; `cdktf synth` runs this file (see cdktf.json).
import { App } from 'cdktf';
import * as path from 'path';
import { DEFAULT_CONFIG, EnvironmentConfig, loadConfig, assertOwnState, forgetOtherBackend, ConfigError } from './stacks/config';
import { FoundationStack, STACK_ID } from './stacks/foundation-stack';
import { CiAccessStack, CI_ACCESS_STACK_ID, checkCiConfig } from './stacks/ci-access-stack';

export { FoundationStack, STACK_ID, CiAccessStack, CI_ACCESS_STACK_ID, loadConfig, ConfigError };
export type { EnvironmentConfig };

export interface BuildAppOptions {
  /**
   * Where `app.synth()` writes (cdktf.out by default, or CDKTF_OUTDIR when run by the cdktf CLI).
   * @default process.env.CDKTF_OUTDIR ?? 'cdktf.out'
   */
  readonly outdir?: string;
}

/**
 * The app with the foundation stack for one environment config, and the ci-access stack when the config has a
 * `ci` section. Call `app.synth()` to write it.
 */
export function buildApp(environment: EnvironmentConfig, options: BuildAppOptions = {}): { app: App; stack: FoundationStack; ciAccess?: CiAccessStack } {
  checkCiConfig(environment);
  const app = new App({ outdir: options.outdir, skipValidation: false });
  const stack = new FoundationStack(app, STACK_ID, { environment });
  const ciAccess = environment.config.ci ? new CiAccessStack(app, CI_ACCESS_STACK_ID, { environment, foundation: stack }) : undefined;
  return { app, stack, ...(ciAccess ? { ciAccess } : {}) };
}

/** Entry point: load the config named by STAGING_ROLLOUT_CONFIG and synthesize. */
export function main(): number {
  const file = process.env.STAGING_ROLLOUT_CONFIG || DEFAULT_CONFIG;
  try {
    const environment = loadConfig(file);
    const { app } = buildApp(environment);
    assertOwnState(file, environment, app.outdir);
    app.synth();
    for (const id of [STACK_ID, CI_ACCESS_STACK_ID]) {
      const note = forgetOtherBackend(path.join(app.outdir, 'stacks', id));
      if (note) process.stderr.write(`${note}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof ConfigError || (e instanceof Error && e.name === 'PropsError')) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  process.exitCode = main();
}
