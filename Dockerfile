# Build stage: Alpine's native Rust target is x86_64-unknown-linux-musl, which
# links statically, so the binary runs in an empty (scratch) image.
FROM rust:1.95-alpine AS build

# musl-dev provides the C runtime objects that ring's C/assembly parts link
# against (the image already ships gcc; no cmake is needed because rustls uses
# ring, not aws-lc). ca-certificates provides the CA bundle copied below.
# DL3018 (pin apk versions) is ignored: Alpine drops old package revisions from
# its mirrors, so pinned versions break the build later; the packages come from
# the Alpine release that the rust base image is built on.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev ca-certificates

WORKDIR /src

# Copy the whole context (filtered by .dockerignore) rather than only
# Cargo.toml, Cargo.lock and src/: cargo checks the files of every target
# declared in Cargo.toml (examples, tests, benches) even when it builds only the
# binary, so a narrower copy breaks as soon as one is declared.
COPY . .

# `action` (Cargo.toml) is tuned for compile time, because a workflow that uses the action
# with `image: Dockerfile` runs this build at the start of every job; the release workflow
# passes PROFILE=release for the published image and binaries, which are built once.
ARG PROFILE=action
RUN cargo build --profile "${PROFILE}" --locked --bin oidc-preflight \
    && cp "target/${PROFILE}/oidc-preflight" /oidc-preflight \
    && /oidc-preflight --version

# Only the binary, for `docker buildx build --target binary --output type=local,dest=DIR`
# (the release workflow's static binaries).
FROM scratch AS binary
COPY --from=build /oidc-preflight /oidc-preflight

# Runtime stage: nothing but the static binary and the CA bundle.
FROM scratch

LABEL org.opencontainers.image.title="oidc-preflight" \
      org.opencontainers.image.description="Checks the GitHub Actions OIDC token against what AWS, Azure, GCP and registries will accept" \
      org.opencontainers.image.source="https://github.com/oidc-preflight/oidc-preflight" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"

# rustls-native-certs loads the system roots from this file (one of the paths
# openssl-probe knows on Linux); SSL_CERT_FILE makes the choice explicit.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt

COPY --from=build /oidc-preflight /oidc-preflight

# No USER: GitHub runs Docker actions as the image's default user and documents
# that it must be root, or writes to the mounted GITHUB_OUTPUT file can fail.
ENTRYPOINT ["/oidc-preflight"]
