# Multi-stage: a static binary on a distroless base, run as non-root.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/crmgate .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/crmgate /crmgate
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/crmgate"]
