# syntax=docker/dockerfile:1.7
ARG GO_VERSION=1.22.5
ARG ALPINE=3.20
ARG BASE_IMAGE=alpine:${ALPINE}

FROM golang:${GO_VERSION}-alpine${ALPINE} AS Build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/app ./cmd/app

FROM build AS test
RUN go test ./...

FROM ${BASE_IMAGE} AS runtime-base
RUN apk add --no-cache ca-certificates

FROM gcr.io/distroless/static-debian12@sha256:3f2b64ef97bd285e36132c684e6b2ae8f2723293d09aae046196cca64251acac
COPY --from=build /out/app /app
USER nonroot:nonroot
ENTRYPOINT ["/app"]
