#!/usr/bin/env bash
# HTTP slash-command throughput with wrk (SPEC §8: the bot answers at least
# 70 % of the requests per second of a bare net/http handler returning a body
# of the same size, measured in the same run on the same machine).
#
#   bash scripts/load-wrk.sh            # needs wrk: apt-get install -y wrk
#
# It builds liaisonbot and liaisonload, starts `liaisonbot serve` on a
# temporary database with only a Slack signing secret, signs ONE request with
# openssl (Slack accepts a timestamp up to 5 minutes old, so the same request
# is replayed: the bot still verifies the HMAC of every request, it does not
# deduplicate slash commands), records the bot's answer, and starts
# liaisonload's bare handler in its own process serving exactly that answer
# (LIAISONLOAD_BASELINE_BODY / LIAISONLOAD_BASELINE_TYPE). Then, for each
# round, wrk loads the bot, then the bare handler, with the same request.
#
# Settings (environment): TEXT (default "contact canada"), CONNECTIONS (32),
# THREADS (2), DURATION (10s), WARMUP (2s), ROUNDS (2). A round is signed
# afresh, so its two targets must fit in 5 minutes.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

TEXT=${TEXT:-contact canada}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-2}

command -v wrk >/dev/null || { log "wrk is not installed (Debian: apt-get install -y wrk)"; exit 1; }
command -v openssl >/dev/null || { log "openssl is not installed"; exit 1; }

machine
build liaisonbot liaisonload

port=$(free_port 18080)
start_serve "$WORK/bot.db" "$port" "$WORK/serve.log"
bot_pid=$SERVE_PID
wait_ready "$port" "$bot_pid"
bot_url="http://127.0.0.1:$port/slack/commands"

# The bot's answer, which the bare handler will return as is.
status=$(slash "$port" "$TEXT" "$WORK/answer")
[[ $status == 200 ]] || { log "the bot answered $status: $(head -c 300 "$WORK/answer")"; exit 1; }
# Its content type, from a second request.
ts=$(date +%s)
body=$(slash_form "$TEXT")
ctype=$(curl -sS -o /dev/null -w '%{content_type}' --max-time 10 \
	-H 'Content-Type: application/x-www-form-urlencoded' \
	-H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: $(sign "$ts" "$body")" \
	--data-binary "$body" "$bot_url")
log "answer: $(wc -c <"$WORK/answer") bytes, $ctype"

# The bare handler in its own process: it prints its address and serves until
# its standard input closes.
mkfifo "$WORK/baseline.stdin"
LIAISONLOAD_BASELINE_BODY="$WORK/answer" LIAISONLOAD_BASELINE_TYPE="$ctype" \
	"$BIN/liaisonload" <"$WORK/baseline.stdin" >"$WORK/baseline.addr" 2>>"$WORK/baseline.log" &
base_pid=$!
_pids+=("$base_pid")
exec 7>"$WORK/baseline.stdin"
for ((i = 0; i < 500; i++)); do
	[[ -s "$WORK/baseline.addr" ]] && break
	sleep 0.01
done
base_url="http://$(head -n1 "$WORK/baseline.addr")/slack/commands"
[[ $base_url != "http:///slack/commands" ]] || { log "the bare handler did not start"; exit 1; }

# run_wrk NAME URL: loads URL with the signed request, prints req/s.
run_wrk() {
	local name=$1 url=$2 out="$WORK/wrk-$1-$round.txt" rps bad
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$WORK/post.lua" "$url" >/dev/null
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/post.lua" "$url" >"$out"
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
	if [[ -n $bad ]]; then
		log "$name: $bad answers were not 2xx (signature expired?)"
		cat "$out" >&2
		exit 1
	fi
	log "$name round $round: $rps req/s, latency p50 $(awk '$1 == "50%" {print $2}' "$out"), p99 $(awk '$1 == "99%" {print $2}' "$out")"
	printf '%s\n' "$rps"
}

sum_ratio=0
printf '%-6s %12s %12s %8s\n' round "bot req/s" "bare req/s" ratio
for ((round = 1; round <= ROUNDS; round++)); do
	ts=$(date +%s)
	cat >"$WORK/post.lua" <<EOF
wrk.method = "POST"
wrk.body = [==[$body]==]
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["X-Slack-Request-Timestamp"] = "$ts"
wrk.headers["X-Slack-Signature"] = "$(sign "$ts" "$body")"
EOF
	bot_rps=$(run_wrk bot "$bot_url") || exit 1
	base_rps=$(run_wrk bare "$base_url") || exit 1
	ratio=$(awk -v a="$bot_rps" -v b="$base_rps" 'BEGIN {printf "%.1f", 100 * a / b}')
	sum_ratio=$(awk -v s="$sum_ratio" -v r="$ratio" 'BEGIN {print s + r}')
	printf '%-6s %12s %12s %7s%%\n' "$round" "$bot_rps" "$base_rps" "$ratio"
done
mean=$(awk -v s="$sum_ratio" -v n="$ROUNDS" 'BEGIN {printf "%.1f", s / n}')
verdict="NOT met"
awk -v m="$mean" 'BEGIN {exit !(m >= 70)}' && verdict="met"
printf 'wrk -t%s -c%s -d%s, /liaison %s: bot/bare = %s %% (mean of %s rounds); SPEC §8 target 70 %%: %s\n' \
	"$THREADS" "$CONNECTIONS" "$DURATION" "$TEXT" "$mean" "$ROUNDS" "$verdict"
machine

exec 7>&- # the bare handler stops at end of input
wait "$base_pid" 2>/dev/null || true
