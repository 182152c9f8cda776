#!/usr/bin/env bash
# Time to ready of `liaisonbot serve` with 50,000 missions in the directory
# (SPEC §8: ready in under 1 s).
#
#   bash scripts/time-to-ready.sh
#
# Builds liaisonbot, imports 50,000 generated missions into a temporary
# database (as scripts/memory-50k.sh does), then RUNS times (default 5):
# starts `serve` (only a Slack signing secret, so no platform to wait for) and
# polls GET /readyz every INTERVAL (default 0.005 s) until it answers 200. The
# time is from just before the process is started to the first 200: exec,
# configuration, opening bbolt, loading the 50,000 missions, building the
# search index, listening. Each run is stopped with SIGTERM before the next.
#
# Settings (environment): MISSIONS (50000), RUNS (5), INTERVAL (0.005).
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

MISSIONS=${MISSIONS:-50000}
RUNS=${RUNS:-5}
INTERVAL=${INTERVAL:-0.005}

machine
build liaisonbot
directory_db "$MISSIONS" "$WORK/bot.db"
port=$(free_port 18080)

times=()
for ((run = 1; run <= RUNS; run++)); do
	t0=$(now_ms)
	start_serve "$WORK/bot.db" "$port" "$WORK/serve.log"
	until ready "$port"; do
		kill -0 "$SERVE_PID" 2>/dev/null || { log "serve exited; log:"; tail -n 5 "$WORK/serve.log" >&2; exit 1; }
		if (($(now_ms) - t0 > 30000)); then log "not ready after 30 s"; exit 1; fi
		sleep "$INTERVAL"
	done
	t1=$(now_ms)
	times+=($((t1 - t0)))
	printf 'run %d: ready in %d ms\n' "$run" $((t1 - t0))
	stop_pid "$SERVE_PID"
done
grep -o '"missions":[0-9]*' "$WORK/serve.log" | head -n1 >&2 || true

mapfile -t sorted < <(printf '%s\n' "${times[@]}" | sort -n)
median=${sorted[$((RUNS / 2))]}
worst=${sorted[$((RUNS - 1))]}
verdict="met"
((worst < 1000)) || verdict="NOT met"
printf '%s missions: ready in %d ms (median of %d), worst %d ms; SPEC §8 target under 1 s: %s\n' \
	"$MISSIONS" "$median" "$RUNS" "$worst" "$verdict"
machine
