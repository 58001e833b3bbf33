FROM --platform=$BUILDPLATFORM tonistiigi/xx:1.4.0 AS xx

FROM --platform=$BUILDPLATFORM golang:1.22 AS build
COPY --from=xx / /
ARG TARGETPLATFORM
RUN xx-go build -o /app .

FROM --platform=linux/amd64 debian:bookworm-slim@sha256:ad86386827b083b3d71139050b47ffb32bbd9559ea9b1345a739b14fec2d9ecf
COPY --from=build /app /usr/local/bin/app
CMD app --serve
