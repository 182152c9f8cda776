#!/usr/bin/env bash
# Resident memory of `liaisonbot serve` with 50,000 missions in the directory
# (SPEC §8: under 80 MB).
#
#   bash scripts/memory-50k.sh
#
# Generates a 50,000-mission missions.csv (scripts/lib.sh, missions_csv),
# imports it with `liaisonbot directory import --replace` into a temporary
# database (the bundled 31 offices stay), starts `serve` with only a Slack
# signing secret, answers a few signed slash commands over HTTP, and reads
# VmRSS and VmHWM (the peak) from /proc/<pid>/status: after start, after the
# commands, and after LOAD_SECONDS (default 10; 0 skips it) of liaisonload at
# 32 concurrent requests.
#
# Settings (environment): MISSIONS (default 50000), LOAD_SECONDS (10).
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

MISSIONS=${MISSIONS:-50000}
LOAD_SECONDS=${LOAD_SECONDS:-10}
TARGET_KB=78125 # 80 MB = 80,000,000 bytes, in KiB as /proc reports them

machine
build liaisonbot liaisonload
directory_db "$MISSIONS" "$WORK/bot.db"
log "database: $(du -k "$WORK/bot.db" | cut -f1) KiB"

port=$(free_port 18080)
start_serve "$WORK/bot.db" "$port" "$WORK/serve.log"
pid=$SERVE_PID
wait_ready "$port" "$pid"
grep -o '"missions":[0-9]*' "$WORK/serve.log" | head -n1 >&2 || true

mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k * 1024 / 1e6}'; }
report() {
	local rss hwm anon file
	read -r rss hwm anon file < <(rss "$pid")
	printf '%-30s VmRSS %5.1f MB (anon %5.1f, file %5.1f)   VmHWM %5.1f MB\n' \
		"$1" "$(mb "$rss")" "$(mb "$anon")" "$(mb "$file")" "$(mb "$hwm")"
}

sleep 1
report "ready, idle"
for text in "contact canada" "contact cnada" "contact cote d'ivoire" "contact embassy of ghana" \
	"contact japan houston" "contact m-012345" "office Miami" "office 29.76,-95.37" "office TX" \
	"emergency" "help"; do
	status=$(slash "$port" "$text")
	[[ $status == 200 ]] || { log "/liaison $text: HTTP $status"; exit 1; }
done
sleep 1
report "after 11 commands"
if ((LOAD_SECONDS > 0)); then
	"$BIN/liaisonload" -baseline=false -secret "$BENCH_SECRET" -url "http://127.0.0.1:$port/slack/commands" \
		-c 32 -d "${LOAD_SECONDS}s" -text "contact canada" >&2
	sleep 1
	report "after ${LOAD_SECONDS}s of load (c=32)"
fi

read -r rss hwm anon file < <(rss "$pid")
verdict="met"
((hwm < TARGET_KB)) || verdict="NOT met"
printf '%s missions: peak resident %s MB (now %s MB: %s MB anonymous, %s MB file-backed); SPEC §8 target under 80 MB: %s\n' \
	"$MISSIONS" "$(mb "$hwm")" "$(mb "$rss")" "$(mb "$anon")" "$(mb "$file")" "$verdict"
machine
