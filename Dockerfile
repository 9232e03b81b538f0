# One pathways binary; the compose file runs it as `worker`, `api`,
# `simulators` and `migrate`.

# ---- build ----
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/pathways ./cmd/pathways

# ---- runtime ----
# debian-slim rather than distroless so healthchecks can use curl.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /app pathways
WORKDIR /app
COPY --from=build /out/pathways /usr/local/bin/pathways
# Programme definitions are read at start (programmes.dir).
COPY programmes/definitions /app/programmes/definitions
USER pathways
ENV PATHWAYS_MODE=production \
    PATHWAYS_HTTP_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["pathways"]
CMD ["api"]
