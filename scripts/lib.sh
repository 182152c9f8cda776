# shellcheck shell=bash
# Shared helpers for the measurement scripts (scripts/*.sh). Source it, don't
# run it. Everything runs on this machine only: servers listen on 127.0.0.1,
# every load is bounded in time, and every process started here is stopped
# by its own pid when the script exits.
#
# Needs: go, curl, openssl, awk. The load scripts also need wrk (Debian:
# apt-get install -y wrk).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/liaisonbench.XXXXXX")
BIN="$WORK/bin"
mkdir -p "$BIN"

# A throwaway signing secret: the bot is started with it and every request
# here is signed with it. Not a real credential.
BENCH_SECRET=${BENCH_SECRET:-bench-signing-secret-0123456789abcdef}

_pids=()
_cleanup() {
	local pid
	for pid in "${_pids[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	if [[ -n "${KEEP_WORK:-}" ]]; then
		echo "work files kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }

# machine: one line saying where the figures come from.
machine() {
	local model
	model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
	printf 'machine: %s cores, %s, %s, load average %s\n' \
		"$(nproc)" "${model:-unknown CPU}" "$(go version | awk '{print $3}')" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
}

# build NAME...: builds ./cmd/NAME into $BIN/NAME with the Dockerfile's
# flags (static, trimmed, stripped), so the figures are the release binary's.
build() {
	local name
	for name in "$@"; do
		log "building $name"
		(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/$name" "./cmd/$name")
	done
}

# free_port [FROM]: prints the first port from FROM (default 18080) that
# nothing listens on.
free_port() {
	local port=${1:-18080}
	while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		port=$((port + 1))
	done
	printf '%s\n' "$port"
}

# start_serve DB PORT LOGFILE: starts `liaisonbot serve` in a clean
# environment (no configuration file, only a Slack signing secret: slash
# commands over HTTP, nothing posted anywhere) and sets SERVE_PID. Extra
# VAR=value pairs may follow.
start_serve() {
	local db=$1 port=$2 logfile=$3
	shift 3
	env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
		LIAISON_DB="$db" LIAISON_LISTEN="127.0.0.1:$port" \
		SLACK_SIGNING_SECRET="$BENCH_SECRET" LIAISON_LOG_FORMAT=json "$@" \
		"$BIN/liaisonbot" serve </dev/null >>"$logfile" 2>&1 &
	SERVE_PID=$!
	_pids+=("$SERVE_PID")
}

# stop_pid PID: SIGTERM, then wait for it.
stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# ready PORT: true when GET /readyz answers 200. Plain bash, no process
# spawned but a subshell, so polling it often costs the server little.
ready() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
		IFS= read -r status <&3 || exit 1
		[[ $status == *" 200 "* ]]
	) 2>/dev/null
}

# wait_ready PORT PID [SECONDS]: waits until /readyz answers 200; fails if
# the process died or the time ran out.
wait_ready() {
	local port=$1 pid=$2 limit=${3:-30} i
	for ((i = 0; i < limit * 100; i++)); do
		ready "$port" && return 0
		kill -0 "$pid" 2>/dev/null || { log "liaisonbot serve exited before it was ready"; return 1; }
		sleep 0.01
	done
	log "liaisonbot serve not ready after ${limit}s"
	return 1
}

# now_ms: wall clock in milliseconds.
now_ms() { local ns; ns=$(date +%s%N); printf '%s\n' $((ns / 1000000)); }

# urlencode STRING: application/x-www-form-urlencoded, as Go's url.Values.
urlencode() {
	local LC_ALL=C # bytes, so that UTF-8 is escaped byte by byte
	local s=$1 out='' c i hex
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[a-zA-Z0-9.~_-]) out+=$c ;;
		' ') out+='+' ;;
		*)
			printf -v hex '%%%02X' "'$c"
			out+=$hex
			;;
		esac
	done
	printf '%s\n' "$out"
}

# slash_form TEXT: the body of a slash command as Slack posts it, the same
# form cmd/liaisonload sends (keys sorted, as url.Values.Encode writes them).
slash_form() {
	printf 'api_app_id=ALOAD0001&channel_id=CLOAD0001&channel_name=load&command=%%2Fliaison&response_url=http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fhooks%%2Fcommands%%2FTLOAD0001%%2F1%%2Fload&team_domain=load&team_id=TLOAD0001&text=%s&token=load-test&trigger_id=1.2.load&user_id=ULOAD0001&user_name=load\n' "$(urlencode "$1")"
}

# sign TIMESTAMP BODY: Slack's v0 signature, HMAC-SHA256 of v0:ts:body.
sign() {
	printf 'v0:%s:%s' "$1" "$2" | openssl dgst -sha256 -hmac "$BENCH_SECRET" | awk '{print "v0=" $NF}'
}

# slash PORT TEXT [OUTFILE]: sends one signed slash command; prints the HTTP
# status (the answer goes to OUTFILE, default /dev/null).
slash() {
	local port=$1 text=$2 out=${3:-/dev/null} body ts
	body=$(slash_form "$text")
	ts=$(date +%s)
	curl -sS -o "$out" -w '%{http_code}' --max-time 10 \
		-H 'Content-Type: application/x-www-form-urlencoded' \
		-H "X-Slack-Request-Timestamp: $ts" \
		-H "X-Slack-Signature: $(sign "$ts" "$body")" \
		--data-binary "$body" "http://127.0.0.1:$port/slack/commands"
}

# missions_csv N FILE: writes N synthetic missions (realistic names, cities
# and coordinates, deterministic) in the missions.csv format of SPEC §5.
missions_csv() {
	awk -v n="$1" 'BEGIN {
		split("Canada|Mexico|Japan|France|Germany|Côte d'\''Ivoire|Türkiye|Brazil|India|China|Korea|Italy|Spain|Poland|Nigeria|Kenya|Egypt|Israel|Jordan|Qatar|Norway|Sweden|Denmark|Finland|Ireland|Greece|Austria|Australia|Argentina|Colombia|Peru|Chile|Ecuador|Bolivia|Paraguay|Uruguay|Venezuela|Panama|Honduras|Guatemala|El Salvador|Nicaragua|Costa Rica|Cuba|Haiti|Jamaica|Bahamas|Barbados|Belize|Ghana", country, "|")
		split("Washington,DC,38.9,-77.03|New York,NY,40.71,-74.0|Chicago,IL,41.88,-87.63|Houston,TX,29.76,-95.37|Miami,FL,25.76,-80.19|Los Angeles,CA,34.05,-118.24|San Francisco,CA,37.77,-122.42|Atlanta,GA,33.75,-84.39|Boston,MA,42.36,-71.06|Seattle,WA,47.61,-122.33|Denver,CO,39.74,-104.99|Detroit,MI,42.33,-83.05|Phoenix,AZ,33.45,-112.07|Dallas,TX,32.78,-96.8|Philadelphia,PA,39.95,-75.17|San Juan,PR,18.47,-66.11|Honolulu,HI,21.31,-157.86|New Orleans,LA,29.95,-90.07|St. Louis,MO,38.63,-90.2|Minneapolis,MN,44.98,-93.27", city, "|")
		split("embassy|consulate_general|consulate|delegation", kind, "|")
		label["embassy"] = "Embassy"; label["consulate_general"] = "Consulate General"
		label["consulate"] = "Consulate"; label["delegation"] = "Delegation"
		print "id,country,kind,name,city,state,address,lat,lon,source"
		for (i = 0; i < n; i++) {
			c = country[i % 50 + 1]
			split(city[int(i / 50) % 20 + 1], ct, ",")
			k = kind[int(i / 7) % 4 + 1]
			name = (k == "embassy") ? "Embassy of " c : label[k] " of " c " in " ct[1]
			printf "m-%06d,\"%s\",%s,\"%s\",%s,%s,%d Main Street,%.4f,%.4f,synthetic (scripts/lib.sh)\n", \
				i, c, k, name, ct[1], ct[2], i % 5000, ct[3] + (i % 100) / 1000, ct[4] - (i % 100) / 1000
		}
	}' >"$2"
}

# directory_db N DB: a database whose directory has N synthetic missions
# (replacing the bundled ones; the bundled offices stay), through
# `liaisonbot directory import`. Prints the import's report on stderr.
directory_db() {
	local n=$1 db=$2 csv="$WORK/missions-$1.csv" t0 t1
	missions_csv "$n" "$csv"
	t0=$(now_ms)
	env -i PATH="$PATH" HOME="${HOME:-/tmp}" LIAISON_DB="$db" \
		"$BIN/liaisonbot" directory import "$csv" --replace >&2
	t1=$(now_ms)
	log "imported $n missions in $((t1 - t0)) ms"
}

# rss PID: "VmRSS VmHWM RssAnon RssFile" in KiB. RssFile is mostly the
# database file, which bbolt maps into memory: page cache the kernel can
# drop, but counted in the resident size.
rss() {
	awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} /^RssAnon:/ {a = $2} /^RssFile:/ {f = $2}
		END {print r, h, a, f}' "/proc/$1/status"
}
