#!/usr/bin/env bash
# HTTP slash-command throughput with cmd/liaisonload (SPEC §8: at least 70 %
# of a bare net/http handler's requests per second, same run, same machine).
#
#   bash scripts/load-liaisonload.sh
#
# Builds liaisonbot and liaisonload, starts `liaisonbot serve` on a temporary
# database with only a Slack signing secret, and runs
#
#   liaisonload -baseline-process -secret … -url http://127.0.0.1:PORT/slack/commands -c 32 -d 10s
#
# which signs every request at the time it is sent (as Slack does), measures
# the bot, then a bare handler in a child process returning the bot's answer,
# and prints both rates and the ratio. Extra arguments go to liaisonload
# (e.g. -c 64 -d 20s -text "office Miami").
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

machine
build liaisonbot liaisonload
port=$(free_port 18080)
start_serve "$WORK/bot.db" "$port" "$WORK/serve.log"
wait_ready "$port" "$SERVE_PID"
"$BIN/liaisonload" -baseline-process -secret "$BENCH_SECRET" \
	-url "http://127.0.0.1:$port/slack/commands" -c 32 -d 10s "$@"
machine
