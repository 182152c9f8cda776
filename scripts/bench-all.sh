#!/usr/bin/env bash
# Every figure of BENCHMARKS.md, one after another, with the machine and its
# load average before each. About 6 minutes on 2 cores. Output: stdout (send
# it to a file). Run it on an otherwise idle machine: other work on the same
# cores lowers every figure, and the throughput ratio most of all.
#
#   bash scripts/bench-all.sh 2>&1 | tee bench.txt
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

step() { printf '\n### %s\n# load average %s\n' "$1" "$(cut -d' ' -f1-3 /proc/loadavg)"; }

printf '# %s cores, %s, %s\n' "$(nproc)" "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" "$(go version)"
step "directory search and nearest office (50,000 missions)"
go test -run '^$' -bench . ./commands/directory/
step "the search index alone"
go test -run '^$' -bench . ./commands/directory/index/
step "digest"
go test -run '^$' -bench Digest ./commands/handoff/
step "incident list"
go test -run '^$' -bench IncidentList ./commands/incident/
step "store operations, bbolt and etcd"
go test -run '^$' -bench . -benchtime 2s -count 2 ./bot/store/boltstore ./bot/store/etcdstore
step "incident open end to end, bbolt and etcd"
go test -run '^$' -bench IncidentOpen -benchtime 2s -count 2 -benchmem ./cmd/liaisonbot
step "directory import of 50,000 missions, bbolt and etcd"
go test -run '^$' -bench DirectoryImport50k -benchtime 3x -count 2 -benchmem ./cmd/liaisonbot
step "HTTP throughput, liaisonload"
bash scripts/load-liaisonload.sh
step "HTTP throughput, wrk"
bash scripts/load-wrk.sh
step "memory with 50,000 missions"
bash scripts/memory-50k.sh
step "time to ready with 50,000 missions"
bash scripts/time-to-ready.sh
step "soak, 200 req/s for 60 s"
bash scripts/soak.sh
