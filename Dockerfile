# The neux sandbox as a container, for running the platform emulator in your own CI.
#
#   docker build -t neux-sandbox .
#   docker run --rm -p 127.0.0.1:7878:7878 -e NEUX_SANDBOX_TOKEN neux-sandbox --app my-app:my-secret
#
# The first line the container prints is `listening on http://0.0.0.0:7878`; mint codes with
# POST /sandbox/v1/codes and `Authorization: Bearer $NEUX_SANDBOX_TOKEN` (16 characters or more;
# without the variable a token is generated and printed). The sandbox listens on every
# interface inside the container, in remote mode (--allow-remote): the platform paths answer
# everyone, the control API only requests with the token, and the inspector page only the
# names localhost, 127.0.0.1, ::1 and those given with --public-host NAME. The example
# publishes the port on the host's loopback only; publish it wider (`-p 7878:7878`, and
# `--public-host` for the name your test network uses) only on a network you trust.
#
# Where no image registry is reachable, build the binary on the host and a base image yourself,
# then give both to the build (`cargo xtask container` does exactly this, with podman):
#
#   cargo build --release -p neux-cli --no-default-features --features reqwest
#   cp target/release/neux ./neux
#   podman build --build-arg BINARY=host --build-arg BASE=localhost/debian:bookworm-slim -t neux-sandbox .

# Where the runtime's base comes from, and where the binary does: `compile` builds it here (the
# default), `host` takes `./neux` from the build context.
ARG BASE=debian:bookworm-slim
ARG BINARY=compile

FROM rust:1-slim-bookworm AS compile
WORKDIR /src
COPY . .
# reqwest only: the sandbox needs no surf, and the image then needs no OpenSSL.
RUN cargo build --release --locked -p neux-cli --no-default-features --features reqwest \
 && strip target/release/neux \
 && cp target/release/neux /neux

FROM scratch AS host
COPY neux /neux

FROM ${BINARY} AS binary

FROM ${BASE}
RUN useradd --system --no-create-home --uid 10001 neux
COPY --from=binary /neux /usr/local/bin/neux
USER 10001
EXPOSE 7878
ENTRYPOINT ["neux", "sandbox", "--listen", "0.0.0.0:7878", "--allow-remote"]
