# The neux sandbox as a container, for running the platform emulator in your own CI.
#
#   docker build -t neux-sandbox .
#   docker run --rm -p 7878:7878 neux-sandbox --app my-app:my-secret
#
# The first line the container prints is `listening on http://0.0.0.0:7878`; mint codes with
# POST /sandbox/v1/codes. Never expose it beyond your test network: it is an emulator.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
# reqwest only: the sandbox needs no surf, and the image then needs no OpenSSL.
RUN cargo build --release --locked -p neux-cli --no-default-features --features reqwest \
 && strip target/release/neux

FROM debian:bookworm-slim
RUN useradd --system --no-create-home --uid 10001 neux
COPY --from=build /src/target/release/neux /usr/local/bin/neux
USER 10001
EXPOSE 7878
ENTRYPOINT ["neux", "sandbox", "--listen", "0.0.0.0:7878"]
