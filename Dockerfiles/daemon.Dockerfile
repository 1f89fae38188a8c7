# berth daemon: the refresh-ahead registry token cache, serving on a unix socket in a mounted directory.
#   install -d -m 700 "$XDG_RUNTIME_DIR/berth"
#   docker run -d --name berth-daemon --user "$(id -u):$(id -g)" \
#     -v "$XDG_RUNTIME_DIR/berth:/run/berth" -v "$HOME/.config/berth/config.json:/etc/berth/config.json:ro" \
#     -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_REGION berth/daemon
# The host's docker-credential-berth then finds the socket at $XDG_RUNTIME_DIR/berth/daemon.sock.
# Build after `npm run build`, from the repository root:
#   docker build -f Dockerfiles/daemon.Dockerfile -t berth/daemon .
# The bundles need no node_modules; BASE_IMAGE only has to provide /usr/local/bin/node (Node >= 20)
# and CA certificates. No RUN step: the build needs no shell.
ARG BASE_IMAGE=docker.io/library/node:24-alpine
FROM ${BASE_IMAGE}
COPY dist/berth.js dist/berth-daemon.js /opt/berth/
COPY dist/chunks/ /opt/berth/chunks/
# The socket directory is the mounted volume; it must be 0700 and owned by the user the container
# runs as (the daemon refuses a directory others can enter).
ENV BERTH_DAEMON_SOCKET=/run/berth/daemon.sock \
    BERTH_CONFIG=/etc/berth/config.json \
    XDG_CACHE_HOME=/tmp/berth-cache \
    NODE_ENV=production
VOLUME ["/run/berth"]
# A numeric user: runs as non-root even where the base image has no such name. Override with --user
# so the socket belongs to the host user who reads it.
USER 65532:65532
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/node", "/opt/berth/berth.js", "daemon", "start"]
