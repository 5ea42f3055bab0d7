# Multi-stage build of mentord and mentorctl from Debian packages.
FROM debian:12 AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config libuv1-dev libprotobuf-c-dev protobuf-c-compiler \
        libpq-dev libssl-dev libargon2-dev libinih-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
    && cmake --build /build -j"$(nproc)" \
    && cmake --install /build --prefix /opt/mentord

FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends \
        libuv1 libprotobuf-c1 libpq5 libssl3 libargon2-1 libinih1 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/mentord --create-home mentord
COPY --from=build /opt/mentord/bin/ /usr/local/bin/
USER mentord
EXPOSE 7411
ENTRYPOINT ["mentord"]
CMD ["--data-dir", "/var/lib/mentord", "--listen", "0.0.0.0:7411"]
