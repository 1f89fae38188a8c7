# berth daemon on the standalone executable: the refresh-ahead registry token cache, serving on a
# unix socket in a mounted directory.
#   install -d -m 700 "$XDG_RUNTIME_DIR/berth"
#   docker run -d --name berth-daemon --user "$(id -u):$(id -g)" \
#     -v "$XDG_RUNTIME_DIR/berth:/run/berth" -v "$HOME/.config/berth/config.json:/etc/berth/config.json:ro" \
#     -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_REGION berth/daemon:binary
# The host's docker-credential-berth then finds the socket at $XDG_RUNTIME_DIR/berth/daemon.sock.
# Build after `npm run build` (which writes dist/bin/berth), from the repository root:
#   docker build -f Dockerfiles/daemon-binary.Dockerfile -t berth/daemon:binary .
# An empty image: the executable, the C library it links against and CA certificates, both taken
# from BASE_IMAGE (any glibc x86-64 image), and /etc/passwd naming user 65532. No Node, no shell,
# no RUN step.
ARG BASE_IMAGE=gcr.io/distroless/cc-debian12
FROM ${BASE_IMAGE} AS base

FROM scratch
COPY --from=base /lib64/ld-linux-x86-64.so.2 /lib64/
COPY --from=base /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libm.so.6 /lib/x86_64-linux-gnu/libpthread.so.0 \
  /lib/x86_64-linux-gnu/libdl.so.2 /lib/x86_64-linux-gnu/libgcc_s.so.1 /lib/x86_64-linux-gnu/
COPY --from=base /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY Dockerfiles/rootfs/ /
COPY dist/bin/berth /usr/local/bin/berth
# The socket directory is the mounted volume; it must be 0700 and owned by the user the container
# runs as (the daemon refuses a directory others can enter). An empty image has no /tmp, so the
# cache directory (locks) lives in that volume too.
ENV BERTH_DAEMON_SOCKET=/run/berth/daemon.sock \
    BERTH_CONFIG=/etc/berth/config.json \
    XDG_CACHE_HOME=/run/berth/cache
VOLUME ["/run/berth"]
# A numeric user; override with --user so the socket belongs to the host user who reads it.
USER 65532:65532
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/berth", "daemon", "start"]
