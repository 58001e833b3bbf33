FROM debian:12

# Install build tools.
RUN apt-get update \
    # a comment inside a continuation is skipped
    && apt-get install -y --no-install-recommends \
        build-essential \

        git \
    && rm -rf /var/lib/apt/lists/*
ENV PATH=/opt/bin:$PATH \
    LANG=C.UTF-8
ENV LEGACY value with spaces
LABEL org.opencontainers.image.source="https://github.com/acme/app" \
      maintainer="team@acme.example"
EXPOSE 8080/tcp 9090
ONBUILD COPY --chown=app . /src
HEALTHCHECK --interval=30s CMD curl -f http://localhost:8080/ || exit 1
