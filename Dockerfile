# soundcheck as a container: a statically linked release binary on an empty base image.
#   docker build -t soundcheck .
#   docker run -p 8080:8080 -v soundcheck-data:/data soundcheck
# scripts/image-check.sh builds the final stage below with podman and proves it runs.

# rust-version is 1.94 (edition 2024); the tag pins the toolchain and the Debian release.
FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src
# A static glibc binary needs no libc in the final image (the bundled SQLite is compiled in).
ENV RUSTFLAGS="-C target-feature=+crt-static"

# Dependencies first, against placeholder sources: editing src/ does not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked --target "$(uname -m)-unknown-linux-gnu" --bin soundcheck \
 && rm -rf src

COPY src src
COPY migrations migrations
COPY fixtures fixtures
# touch: COPY keeps the sources' old mtimes, which cargo would take for the placeholders'.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --target "$(uname -m)-unknown-linux-gnu" --bin soundcheck \
 && mkdir -p /out/data /out/tmp \
 && cp "target/$(uname -m)-unknown-linux-gnu/release/soundcheck" /out/soundcheck

# The final stage: the binary, an empty /data for the database and a /tmp (SQLite may spill
# temporary files). Keep its COPY lines reading from /out: scripts/image-check.sh builds this
# stage with a local /out.
FROM scratch
LABEL org.opencontainers.image.title="soundcheck" \
      org.opencontainers.image.description="A local emulator of the Musique Partner API and the MusicArk API" \
      org.opencontainers.image.licenses="MIT"
COPY --from=builder /out/soundcheck /soundcheck
# COPY does not keep a directory's own mode, so /tmp cannot be 1777: the user owns it instead.
COPY --from=builder --chown=65532:65532 /out/tmp /tmp
COPY --from=builder --chown=65532:65532 /out/data /data
# No /etc/passwd in scratch: a numeric user, which owns /data and /tmp and nothing else.
USER 65532:65532
WORKDIR /data
VOLUME /data
# Every interface, or the published port reaches nothing. Without SOUNDCHECK_ADMIN_TOKEN the
# server warns loudly that its control plane is open: set one on shared hosts.
ENV SOUNDCHECK_ADDR=0.0.0.0:8080 \
    SOUNDCHECK_DB=/data/soundcheck.db
EXPOSE 8080
# The binary is its own health client (no curl in scratch); it maps 0.0.0.0 to loopback.
HEALTHCHECK --interval=10s --timeout=6s --start-period=20s --retries=3 \
    CMD ["/soundcheck", "healthcheck"]
# The server is PID 1 and handles SIGTERM itself: in-flight requests finish, quotas are saved.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/soundcheck"]
CMD ["serve"]
