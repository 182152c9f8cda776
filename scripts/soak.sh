#!/usr/bin/env bash
# Soak test of the HTTP endpoints with cmd/liaisonload's soak mode: a fixed
# rate (open loop) for a bounded time, valid and invalid requests mixed.
#
#   bash scripts/soak.sh                     # 200 req/s for 60 s
#   RATE=500 DURATION=120s bash scripts/soak.sh
#
# Builds liaisonbot and liaisonload, starts `liaisonbot serve` on a temporary
# database with a Slack signing secret and a Mattermost command token (the
# command alone: no bot account, nothing is ever posted; MATTERMOST_URL points
# at a loopback port nothing listens on), and runs
#
#   liaisonload soak -url http://127.0.0.1:PORT -secret … -mm-token … -pid PID -rate RATE -duration DURATION
#
# which sends signed Slack commands (valid, unknown, bad signature, stale
# timestamp, oversized, malformed, wrong method) and Mattermost commands
# (valid, bad token, malformed), checks each got the status it must, and
# prints per class the statuses, p50/p99/max latency, and the server's VmRSS,
# heap and goroutines at the start and end of the measurement. It exits
# non-zero when any request got an unexpected status or no answer. Extra
# arguments go to liaisonload soak (e.g. -warmup 10s -sample 10s).
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

RATE=${RATE:-200}
DURATION=${DURATION:-60s}
# A throwaway 26-character Mattermost command token, like BENCH_SECRET.
MM_TOKEN=${MM_TOKEN:-soakcommandtoken0000000001}

machine
build liaisonbot liaisonload
port=$(free_port 18080)
mmport=$(free_port $((port + 1)))
start_serve "$WORK/bot.db" "$port" "$WORK/serve.log" \
	MATTERMOST_URL="http://127.0.0.1:$mmport" MATTERMOST_COMMAND_TOKEN="$MM_TOKEN"
wait_ready "$port" "$SERVE_PID"
log "serve pid $SERVE_PID on 127.0.0.1:$port; RSS at rest (VmRSS VmHWM RssAnon RssFile, KiB): $(rss "$SERVE_PID")"
status=0
"$BIN/liaisonload" soak -url "http://127.0.0.1:$port" -secret "$BENCH_SECRET" -mm-token "$MM_TOKEN" \
	-pid "$SERVE_PID" -rate "$RATE" -duration "$DURATION" "$@" || status=$?
log "RSS after (VmRSS VmHWM RssAnon RssFile, KiB): $(rss "$SERVE_PID")"
if grep -q '"level":"ERROR"' "$WORK/serve.log"; then
	log "the server logged errors:"
	grep '"level":"ERROR"' "$WORK/serve.log" | head -5 >&2
	status=1
fi
stop_pid "$SERVE_PID"
machine
exit "$status"
