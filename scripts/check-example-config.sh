#!/usr/bin/env bash
# Checks that deploy/liaisonbot.example.yaml (and deploy/replicas/liaisonbot.yaml)
# pass `liaisonbot config check`
# (exit 0), in an environment with no liaisonbot variables set, so that what
# the example says is what a fresh host sees. For CI:
#
#   bash scripts/check-example-config.sh
set -euo pipefail
cd "$(dirname "$0")/.."

example=deploy/liaisonbot.example.yaml
# Nothing from the caller's environment may change the result.
unset LIAISON_CONFIG LIAISON_DB LIAISON_LISTEN LIAISON_COMMAND LIAISON_PUBLIC_URL \
  SLACK_BOT_TOKEN SLACK_SIGNING_SECRET SLACK_APP_TOKEN SLACK_API_URL \
  MATTERMOST_URL MATTERMOST_BOT_TOKEN MATTERMOST_TEAM MATTERMOST_COMMAND_TOKEN \
  LIAISON_ETCD_USER LIAISON_ETCD_PASSWORD
for v in SLACK_BOT_TOKEN SLACK_SIGNING_SECRET SLACK_APP_TOKEN MATTERMOST_BOT_TOKEN \
  MATTERMOST_COMMAND_TOKEN LIAISON_ETCD_PASSWORD; do
  unset "${v}_FILE"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Built, then run (rather than `go run`), so that the exit code is the
# program's own: 2 means the configuration has problems.
go build -o "$tmp/liaisonbot" ./cmd/liaisonbot
for example in "$example" deploy/replicas/liaisonbot.yaml; do
	if "$tmp/liaisonbot" --config "$example" config check >"$tmp/out" 2>&1; then
		echo "ok: $example passes config check"
	else
		rc=$?
		cat "$tmp/out"
		echo "FAIL: $example does not pass config check (exit $rc)" >&2
		exit 1
	fi
done
