# Centinela as a minimal, non-root image.
#
#   docker build -t centinela:0.1.0 .
#   docker run -p 8443:8443 -p 9090:9090 \
#     -v "$PWD/centinela.toml:/etc/centinela/centinela.toml:ro" \
#     -e CENTINELA_DATABASE_URL -e CENTINELA_MASTER_KEY centinela:0.1.0
#
# In Kubernetes (deploy/kubernetes) the root filesystem is read-only and the data
# directory and /tmp are emptyDir volumes.
#
# Build stage: the workspace's own lockfile, release profile. The C parts (SQLite,
# tree-sitter grammars, ring) are compiled here and linked against glibc.
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p centinela \
 && install -D -m 0755 target/release/centinela /out/centinela

# Run stage: distroless (glibc, CA certificates, no shell, no package manager), as the
# image's unprivileged `nonroot` user (65532), which the Kubernetes manifests in
# deploy/ also run as.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/centinela /usr/local/bin/centinela
USER 65532:65532
WORKDIR /home/nonroot
EXPOSE 8443 9090
ENTRYPOINT ["/usr/local/bin/centinela"]
CMD ["serve", "--config", "/etc/centinela/centinela.toml"]
