# berth dockercfg generator on the standalone executable: every provider: each host in BERTH_REGISTRIES by its cloud, other hosts with DOCKER_USERNAME/DOCKER_PASSWORD.
#   docker run --rm -v "$PWD:/opt/data" -e … berth/all-generator:binary /opt/data/dockercfg
# Build after `npm run build` (which writes dist/bin/berth), from the repository root:
#   docker build -f Dockerfiles/all-binary.Dockerfile -t berth/all-generator:binary .
# An empty image: the executable (started as berth-generate, which selects the generator), the C
# library it links against and CA certificates, both taken from BASE_IMAGE (any glibc x86-64
# image), and /etc/passwd naming user 65532. No Node, no shell, no RUN step.
ARG BASE_IMAGE=gcr.io/distroless/cc-debian12
FROM ${BASE_IMAGE} AS base

FROM scratch
COPY --from=base /lib64/ld-linux-x86-64.so.2 /lib64/
COPY --from=base /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libm.so.6 /lib/x86_64-linux-gnu/libpthread.so.0 \
  /lib/x86_64-linux-gnu/libdl.so.2 /lib/x86_64-linux-gnu/libgcc_s.so.1 /lib/x86_64-linux-gnu/
COPY --from=base /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY Dockerfiles/rootfs/ /
COPY dist/bin/berth /usr/local/bin/berth-generate
# BERTH_PROVIDER unset: each host in BERTH_REGISTRIES picks its provider.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/berth-generate"]
