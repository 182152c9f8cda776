#!/usr/bin/env bash
# govulncheck, offline: against a local vulnerability database built from the
# golang.org/x/vulndb module (../shared/PLATFORM-NOTES.md, "Toolchain
# security"), so that nothing is asked of vuln.go.dev.
#
#   bash scripts/govulncheck.sh                 # scans ./...
#   bash scripts/govulncheck.sh ./cmd/liaisonbot  # what the release binary holds
#   bash scripts/govulncheck.sh -show verbose ./...
#
# Steps:
#   1. go mod download golang.org/x/vulndb@$VULNDB_VERSION (through the Go
#      module proxy: the module carries every report as OSV JSON in data/osv/)
#   2. go install its cmd/indexdb at that version, and
#      golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION
#   3. indexdb -vulns <module>/data/osv -out $VULNDB_DIR  (a v1 database:
#      index/db.json, index/modules.json, index/vulns.json, ID/*.json)
#   4. govulncheck -db file://$VULNDB_DIR "$@", with GOPROXY=off so that the
#      scan reads only what is on this machine.
#
# Settings (environment):
#   VULNDB_VERSION       a version of golang.org/x/vulndb; the module has no
#                        tags, so a pseudo-version (default: the one last
#                        used for the issue 8 note) or "latest"
#   GOVULNCHECK_VERSION  default latest
#   VULNDB_CACHE         where the tools and databases are kept
#                        (default ${XDG_CACHE_HOME:-~/.cache}/liaisonbot-vulndb)
#
# The exit code is govulncheck's: 0 nothing found in the code's call paths,
# 3 vulnerabilities are called, anything else a failure. Standard-library
# findings depend on the Go that runs the scan (`go version`): release
# builds use the Dockerfile's Go (1.26.10 or newer), this machine's may be
# older.
set -euo pipefail
cd "$(dirname "$0")/.."

VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}
GOVULNCHECK_VERSION=${GOVULNCHECK_VERSION:-latest}
VULNDB_CACHE=${VULNDB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/liaisonbot-vulndb}

log() { printf 'govulncheck.sh: %s\n' "$*" >&2; }

# 1. The vulndb module, at a resolved version.
version=$(go list -m -f '{{.Version}}' "golang.org/x/vulndb@$VULNDB_VERSION")
moddir=$(go mod download -json "golang.org/x/vulndb@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -d "$moddir/data/osv" ]] || { log "no data/osv in golang.org/x/vulndb@$version ($moddir)"; exit 1; }
log "golang.org/x/vulndb@$version: $(find "$moddir/data/osv" -name '*.json' | wc -l) reports"

# 2. The tools. indexdb is built from the same module version (its first
# build downloads the module's dependencies: a couple of minutes, once).
bindir="$VULNDB_CACHE/bin"
mkdir -p "$bindir"
if [[ ! -x "$bindir/indexdb-$version" ]]; then
	log "building golang.org/x/vulndb/cmd/indexdb@$version"
	GOBIN="$bindir" go install "golang.org/x/vulndb/cmd/indexdb@$version"
	mv "$bindir/indexdb" "$bindir/indexdb-$version"
fi
log "installing golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
GOBIN="$bindir" go install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"

# 3. The database, built once per vulndb version.
dbdir="$VULNDB_CACHE/db-$version"
if [[ ! -f "$dbdir/index/db.json" ]]; then
	log "building the database in $dbdir"
	rm -rf "$dbdir.tmp"
	"$bindir/indexdb-$version" -vulns "$moddir/data/osv" -out "$dbdir.tmp"
	rm -rf "$dbdir"
	mv "$dbdir.tmp" "$dbdir"
fi

# 4. The scan: the project's modules must already be in the module cache.
go mod download
[[ $# -gt 0 ]] || set -- ./...
log "$(go version), database golang.org/x/vulndb@$version"
set +e
GOPROXY=off GOTOOLCHAIN=local "$bindir/govulncheck" -db "file://$dbdir" "$@"
rc=$?
set -e
case $rc in
0) log "no vulnerability in the code's call paths" ;;
3) log "vulnerabilities found (exit 3): see above" ;;
*) log "govulncheck failed (exit $rc)" ;;
esac
exit "$rc"
