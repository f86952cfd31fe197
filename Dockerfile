# The neux sandbox as a container, for running the platform emulator in your own CI.
#
#   docker build -t neux-sandbox .
#   docker run --rm -p 7878:7878 neux-sandbox --app my-app:my-secret
#
# The first line the container prints is `listening on http://0.0.0.0:7878`; mint codes with
# POST /sandbox/v1/codes. It listens on every interface of the container, with --allow-remote
# (the control API then answers any Host): publish the port to your test network only, never
# beyond. It is an emulator, with no authentication.
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
