# syntax=docker/dockerfile:1
#
# liaisonbot container image: a static binary on distroless, as a non-root user.
#
#   docker build --build-arg COMMIT=$(git rev-parse HEAD) -t liaisonbot .
#   docker volume create liaisonbot-data
#   docker run -d --name liaisonbot -p 127.0.0.1:8080:8080 \
#     -v liaisonbot-data:/var/lib/liaisonbot \
#     -v "$PWD/liaisonbot.yaml:/etc/liaisonbot/liaisonbot.yaml:ro" \
#     -e LIAISON_CONFIG=/etc/liaisonbot/liaisonbot.yaml \
#     --env-file liaisonbot.env \
#     liaisonbot
#
# Supply chain: the build stage must use a Go release without the known
# standard-library vulnerabilities of Go 1.26.8 (net/http, crypto/tls,
# crypto/x509, net/textproto, html/template: fixed in 1.26.9 and 1.26.10).
# The guard below refuses anything older than 1.26.10 on the 1.26 line.
# For reproducible builds, pin the base images by digest as well
# (golang:1.26.10-bookworm@sha256:…) once pulled.

ARG GO_VERSION=1.26.10

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Use this image's Go, never download another; no cgo: a static binary.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
RUN v="$(go env GOVERSION)"; \
    case "$v" in \
      go1.26.[0-9]|go1.2[0-5]|go1.2[0-5].*|go1.1[0-9]|go1.1[0-9].*|go1.[0-9]|go1.[0-9].*) \
        echo "refusing to build with $v: use Go 1.26.10 or newer (see Dockerfile)" >&2; exit 1 ;; \
    esac; \
    echo "building with $v"

# Modules first, so that a change of source does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download && go mod verify

COPY . .
# The commit is passed in: the build context has no .git (see .dockerignore).
ARG COMMIT=unknown
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.commit=${COMMIT}" \
      -o /out/liaisonbot ./cmd/liaisonbot \
 && /out/liaisonbot version \
 && mkdir -p /out/data

# distroless/static: CA certificates (for Slack's and Mattermost's HTTPS),
# /etc/passwd with the nonroot user (65532), no shell, no package manager.
# Time zones are compiled into the binary (time/tzdata).
FROM gcr.io/distroless/static-debian12:nonroot
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="liaisonbot" \
      org.opencontainers.image.description="Chat-ops bot of the Protective Liaison Division" \
      org.opencontainers.image.revision="${COMMIT}"

COPY --from=build /out/liaisonbot /usr/local/bin/liaisonbot
# The data volume, owned by the runtime user so that a new named volume
# inherits that ownership. The bbolt database lives here.
COPY --from=build --chown=65532:65532 /out/data /var/lib/liaisonbot

USER 65532:65532
WORKDIR /var/lib/liaisonbot
ENV LIAISON_DB=/var/lib/liaisonbot/liaison.db \
    LIAISON_LISTEN=0.0.0.0:8080
VOLUME ["/var/lib/liaisonbot"]
EXPOSE 8080

# `liaisonbot healthcheck` GETs http://127.0.0.1:<port>/healthz (the port of
# LIAISON_LISTEN) and exits 0 on 200, 1 otherwise: the image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/liaisonbot", "healthcheck"]

# SIGTERM: stop intake, finish requests (10 s), flush the outbox (10 s).
# Give `docker stop` that long: docker stop -t 30 (or stop_grace_period: 30s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/liaisonbot"]
CMD ["serve"]
