#!/usr/bin/env bash
# The main job: builds nukihil (release) and runs the QA scenario suites (scenarios/suites, and
# scenarios/hil, the scenarios written for real locks) in
# embedded mode — each scenario in a fresh nukisim + nuki-adapter + webhook recorder on one
# virtual clock — and writes JUnit XML, the HTML report and the JSON run report. Installs
# missing Debian packages first. Extra arguments go to `nukihil run` (--seed, --filter, …);
# NUKIHIL_REPORTS picks the report folder (default build/reports). Exit code: nukihil's
# (0 all passed, 1 a scenario failed or errored, 2 an invalid scenario file).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh
cmake --preset release >/dev/null
cmake --build --preset release --target nukihil
out="${NUKIHIL_REPORTS:-build/reports}"
mkdir -p "$out"
set +e
build/release/tools/nukihil run scenarios/suites scenarios/hil --jobs 2 \
  --junit "$out/junit.xml" --html "$out/report.html" --json "$out/report.json" "$@"
rc=$?
set -e
cat <<TXT

Reports:
  JUnit XML   $out/junit.xml      (CI: GitLab artifacts:reports:junit, Jenkins junit step)
  HTML        $out/report.html    open it in a browser: xdg-open $out/report.html
                                  (self-contained: it can be mailed or archived as is)
  JSON        $out/report.json

To see the simulated fleet in a browser and handle its locks: tools/demo.sh (it prints the
dashboard's URL and the admin token to sign in with; docs/dashboard.md).
TXT
exit $rc
