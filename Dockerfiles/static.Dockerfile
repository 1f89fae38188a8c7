# berth dockercfg generator: any registry with a user name and password or token (Docker Hub, GHCR, Quay, Artifactory).
#   docker run --rm -v "$PWD:/opt/data" -e … berth/static-generator /opt/data/dockercfg
# Build after `npm run build`, from the repository root:
#   docker build -f Dockerfiles/static.Dockerfile -t berth/static-generator .
# The bundle in dist/generator/ needs no node_modules; BASE_IMAGE only has to provide
# /usr/local/bin/node (Node >= 20) and CA certificates. No RUN step: the build needs no shell.
ARG BASE_IMAGE=docker.io/library/node:24-alpine
FROM ${BASE_IMAGE}
COPY dist/generator/ /opt/berth/
ENV BERTH_PROVIDER=static
# A numeric user: runs as non-root even where the base image has no such name.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/node", "/opt/berth/berth-generate.js"]
