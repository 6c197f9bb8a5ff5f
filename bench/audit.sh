#!/usr/bin/env bash
# The audit's time on a generated repository of 50 workflows and 20 trust documents (the
# figure in docs/performance.md; target: under 100 ms). Each workflow has a deploy job on an
# environment and a check job with a token, on push to main, tags, pull requests and
# workflow_dispatch, so the matrix has 50 x 10 rows x 20 documents, and every allowed cell is
# probed for dangerous trust. The documents are AWS roles (one per environment family), Azure credentials and
# GCP providers, as a monorepo has them.
#
# Usage: bash bench/audit.sh [RUNS]   (default 20; from anywhere)
set -euo pipefail

runs="${1:-20}"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/common.sh
source bench/common.sh

ensure_tools
log "building the release binary"
cargo build --locked --release --quiet
binary="${target_dir}/release/oidc-preflight"

repo="${work}/repo"
mkdir -p "${repo}/.github/workflows" "${repo}/policies"
for i in $(seq 1 50); do
  cat >"${repo}/.github/workflows/service-${i}.yml" <<YAML
name: Service ${i}
on:
  push:
    branches: [main]
    tags: ['v*']
  pull_request:
  workflow_dispatch:
permissions:
  contents: read
jobs:
  check:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - run: make check
  deploy:
    needs: check
    runs-on: ubuntu-latest
    environment: prod-$((i % 10))
    permissions:
      id-token: write
    steps:
      - run: ./deploy ${i}
YAML
done
provider="arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
for i in $(seq 0 9); do
  cat >"${repo}/policies/aws-${i}.json" <<JSON
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"Federated": "${provider}"}, "Action": "sts:AssumeRoleWithWebIdentity",
  "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
    "token.actions.githubusercontent.com:sub": "repo:octo-org/monorepo:environment:prod-${i}"}}}]}
JSON
done
for i in $(seq 0 4); do
  cat >"${repo}/policies/azure-${i}.json" <<JSON
{"name": "prod-${i}", "issuer": "https://token.actions.githubusercontent.com",
 "subject": "repo:octo-org/monorepo:environment:prod-${i}", "audiences": ["api://AzureADTokenExchange"]}
JSON
done
for i in $(seq 0 4); do
  cat >"${repo}/policies/gcp-${i}.yaml" <<YAML
attributeCondition: assertion.repository_owner == 'octo-org' && assertion.sub == 'repo:octo-org/monorepo:environment:prod-${i}'
attributeMapping:
  google.subject: assertion.sub
name: projects/1/locations/global/workloadIdentityPools/github/providers/prod-${i}
oidc:
  issuerUri: https://token.actions.githubusercontent.com
state: ACTIVE
YAML
done

cd "${repo}"
# Exit 1 is expected (pull request rows of the check job are refused), and only 1: a usage
# error (2) must not be timed as the audit. hyperfine is then told to ignore the exit code.
set +e
"${binary}" audit --repository octo-org/monorepo --trust-policy policies --format json >"${work}/report.json"
status=$?
set -e
if ((status != 1)); then
  log "error: the audit exited ${status}, not 1 (refused jobs found); not timing it"
  exit 1
fi
rows="$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["matrix"]), "rows x", len(r["documents"]), "documents,", len(r["findings"]), "findings")' "${work}/report.json")"
log "${rows}"
hyperfine --warmup 3 --runs "${runs}" -i --export-markdown "${work}/audit.md" \
  "${binary} audit --repository octo-org/monorepo --trust-policy policies --format json"
cat "${work}/audit.md"
