# covet-sidecar container image.
#
#   docker build -t covet-sidecar .
#   docker build --build-arg VERSION=0.1.0 -t covet-sidecar:0.1.0 .
#   docker run --read-only -v "$PWD/config.yaml:/etc/covet-sidecar/config.yaml:ro" covet-sidecar
#
# The build stage runs the same scripts as CI (scripts/install-deps.sh, scripts/build.sh), so
# the binary in the image is built exactly as the one the test suite runs against. The
# runtime stage holds only the shared libraries that binary links.

# ---------------------------------------------------------------------------- build stage
FROM debian:bookworm AS build

WORKDIR /src
# The dependency installation gets its own layer, keyed on the script alone: editing a
# source file does not reinstall the toolchain.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*

COPY . .
# The build type stays the project's default (RelWithDebInfo), the flags CI tests with; the
# debug information alone is stripped to keep the image small.
RUN bash scripts/build.sh -DCOVET_TESTS=OFF \
    && strip --strip-debug build/covet-sidecar \
    && build/covet-sidecar --version

# -------------------------------------------------------------------------- runtime stage
FROM debian:bookworm-slim

ARG VERSION=0.1.0
# The repository declares no license yet: SPDX's "no assertion" until it does.
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="covet-sidecar" \
      org.opencontainers.image.description="Health probes (PostgreSQL, Redis, HTTP, disk, memory), Kubernetes health endpoints, Prometheus metrics and an OTLP trace relay, in one process beside the app." \
      org.opencontainers.image.source="https://github.com/covet/covet-sidecar" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.version="${VERSION}"

# The shared libraries the binary links (ldd build/covet-sidecar, each mapped to its package
# with dpkg -S), and CA certificates for https:// probes, scrapes and exporters that use
# the system store.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates \
        libcurl4 \
        libfmt9 \
        libhiredis0.14 \
        libnghttp2-14 \
        libpq5 \
        libprometheus-cpp-core1.0 \
        libspdlog1.10 \
        libssl3 \
        libsystemd0 \
        libuv1 \
        libyaml-cpp0.7 \
        zlib1g \
    && rm -rf /var/lib/apt/lists/*

# A fixed numeric uid/gid, so that Kubernetes' runAsNonRoot can verify it and volume
# ownership is the same on every host. The spool directory is the only place the agent
# writes: everything else may be a read-only root filesystem.
RUN groupadd --system --gid 10001 covet \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin covet \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/covet-sidecar /var/lib/covet-sidecar/spool

COPY --from=build /src/build/covet-sidecar /usr/local/bin/covet-sidecar
# A working default (disk and memory probes, no OTLP); deployments mount their own.
COPY config/examples/config.yaml /etc/covet-sidecar/config.yaml

# A named or anonymous volume here keeps the spool writable under --read-only and keeps
# spooled spans across container restarts. A new named volume takes this directory's owner.
VOLUME ["/var/lib/covet-sidecar/spool"]

USER 10001:10001

# 8099: health endpoints and /metrics; 4317: OTLP/gRPC; 4318: OTLP/HTTP.
EXPOSE 8099 4317 4318

# The binary checks itself: the image has no curl or wget. Liveness, not readiness: a
# failing database must not get the sidecar restarted. Assumes the default listener;
# a config that moves it needs a matching healthcheck. The timeout is above the
# subcommand's own (5s), so it reports its failure rather than being killed.
HEALTHCHECK --interval=10s --timeout=6s --start-period=10s --retries=3 \
    CMD ["covet-sidecar", "healthcheck", "http://127.0.0.1:8099/health/live"]

# SIGTERM starts the drain (ready answers 503 for shutdown.drain_delay, then the queues are
# flushed within shutdown.grace_period, 25s by default): give `docker stop` a timeout
# above it (--time=30, compose stop_grace_period: 30s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["covet-sidecar", "--config", "/etc/covet-sidecar/config.yaml"]
