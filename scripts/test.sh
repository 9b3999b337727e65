#!/usr/bin/env bash
# `npm test`: type check, unit tests, integration tests (real Terraform + moto_server, Docker where available).
# Runs every phase, prints a timing table, and exits non-zero if any phase failed.
#   TEST_PHASES="typecheck unit add-a-worker integration"   choose phases (default: all four, in this order);
#                                               add-a-worker: the unit suites that read the staging config, against a
#                                               copy with one more worker (scripts/add-a-worker.mjs, docs/testing.md)
#   STAGING_ROLLOUT_REQUIRE_INTEGRATION=1       a missing terraform / provider mirror / moto_server fails the
#                                               integration phase instead of skipping it (.ci/run sets it)
set -uo pipefail
cd "$(dirname "$0")/.."

phases="${TEST_PHASES:-typecheck unit add-a-worker integration}"
declare -a summary=()
failed=0

run_phase() {
  local name="$1"; shift
  local start end rc
  printf '\n==> %s: %s\n' "$name" "$*"
  start=$(date +%s)
  "$@"; rc=$?
  end=$(date +%s)
  if [ "$rc" -eq 0 ]; then summary+=("$(printf '%-22s %-6s %4ss' "$name" ok $((end - start)))")
  else summary+=("$(printf '%-22s %-6s %4ss (exit %s)' "$name" FAILED $((end - start)) "$rc")"); failed=1; fi
}

for phase in $phases; do
  case "$phase" in
    typecheck)
      run_phase 'typecheck (stack)' npm run --silent build
      if [ -f tsconfig.runner.json ]; then run_phase 'typecheck (runner)' npx --no-install tsc --noEmit -p tsconfig.runner.json; fi
      run_phase 'typecheck (harness)' npx --no-install tsc --noEmit -p scripts/lib/tsconfig.json
      ;;
    unit) run_phase 'unit tests' npm run --silent test:unit ;;
    add-a-worker) run_phase 'unit (add a worker)' node scripts/add-a-worker.mjs ;;
    integration) run_phase 'integration tests' npm run --silent test:integration ;;
    *) echo "scripts/test.sh: unknown phase '$phase' in TEST_PHASES (known: typecheck unit add-a-worker integration)" >&2; exit 2 ;;
  esac
done

printf '\n==> summary\n'
printf '  %s\n' "${summary[@]}"
if [[ " $phases " == *' integration '* ]] && [ -f .work/it/latest/skipped.json ]; then printf '  skip report: .work/it/latest/skipped.json\n'; fi
exit "$failed"
