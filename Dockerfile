# syntax=docker/dockerfile:1
# The install step is ./run setup — the same code path .ci/run exercises on every commit: every package at
# the version and hash of requirements-postgres.lock, installed with uv (from PyPI), or pip if uv is missing.
# One image, two roles: `planbot serve --web-only` (web) and `planbot worker` (see compose.yaml).

FROM python:3.11-slim-bookworm AS build
ENV PLANBOT_VENV=/opt/venv PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY . .
RUN ./run setup postgres
# Build the index into the image so a container answers from its first request.
RUN PLANBOT_DATA_DIR=/var/lib/planbot /opt/venv/bin/planbot index

FROM python:3.11-slim-bookworm AS runtime
# A Japanese font for `planbot line richmenu` (it draws the menu's labels).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-ipafont-gothic \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home /var/lib/planbot planbot
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY --from=build --chown=planbot:planbot /var/lib/planbot /var/lib/planbot
ENV PATH=/opt/venv/bin:$PATH PLANBOT_DATA_DIR=/var/lib/planbot PLANBOT_ENV=production
WORKDIR /app
USER planbot
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
CMD ["planbot", "serve", "--host", "0.0.0.0", "--port", "8000"]
