// Where things are in the checkout, for the harness and the scripts: the one place that knows the layout.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** THE list of what the emulator cannot do (resources, drift, checks). */
export const DEFAULT_GAPS_FILE = path.join(REPO_ROOT, 'lib', 'emulator-gaps.json');
/** Docker engine and loopback registry control (start-dockerd, start-registry, ...). */
export const DOCKER_SH = path.join(REPO_ROOT, 'scripts', 'ci', 'docker.sh');
