# syntax=docker/dockerfile:1
#
# Back-office Django application image.
#
#   docker build --build-arg BASE_IMAGE=python:3.11-slim-bookworm -t backoffice:TAG .
#
# BASE_IMAGE must be a slim Debian-based image that has python3 with the venv
# module (the official python:3.11-slim images do; infra/check.sh builds an
# equivalent one with debootstrap when no image registry is reachable).
# Release builds pin it by digest (docs/deploy.md, "Image"):
#   --build-arg BASE_IMAGE=python:3.11-slim-bookworm@sha256:<digest>
# Python dependencies install at the versions the tests ran with
# (requirements.lock, as pip constraints).
#
# Runtime contract
#   * the container never runs migrations on start; run them explicitly once per
#     deploy:  docker run --rm --env-file app.env IMAGE migrate
#   * configuration comes only from the environment at run time
#     (DJANGO_SECRET_KEY, DATABASE_URL, AWS_STORAGE_BUCKET_NAME, ...);
#     no secret is baked into any layer.
#
# Gunicorn (overridable through the environment, see entrypoint below)
#   GUNICORN_WORKERS=3   processes; rule of thumb 2 x vCPU + 1 (t3.small: 2 vCPU -> 3..5)
#   GUNICORN_THREADS=4   gthread worker threads per process; I/O bound Django views
#                        (S3, PostgreSQL) overlap well with a few threads
#   GUNICORN_TIMEOUT=60  seconds a worker may be silent before it is killed; above
#                        nginx's proxy_read_timeout (55 s) so nginx answers first
#   GUNICORN_GRACEFUL_TIMEOUT=30  seconds in-flight requests get after SIGTERM
#   GUNICORN_KEEPALIVE=75  longer than nginx's upstream keepalive_timeout (60 s) so
#                        gunicorn never closes a connection nginx is about to reuse
#   GUNICORN_MAX_REQUESTS=0  worker recycling off: the rolling-deploy rehearsal
#                        (infra/rehearsal) showed gthread workers recycling under
#                        load stall queued requests for up to 10 s; set N (jitter
#                        N/10 is added) only if worker memory is seen to grow

ARG BASE_IMAGE=python:3.11-slim-bookworm

########################################################################
# Stage 1: build a virtualenv with the project and its dependencies.
########################################################################
FROM ${BASE_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /build
# The context is filtered by .dockerignore (no .git, venvs, tests, infra code,
# local databases or .env files). Dependencies come from the project's own
# pyproject.toml.
COPY . .
RUN pip install --no-compile -c requirements.lock .

########################################################################
# Stage 2: runtime image, no compilers, no pip cache, non-root.
########################################################################
FROM ${BASE_IMAGE} AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=backoffice.settings.production \
    PORT=8000 \
    GUNICORN_WORKERS=3 \
    GUNICORN_THREADS=4 \
    GUNICORN_TIMEOUT=60 \
    GUNICORN_GRACEFUL_TIMEOUT=30 \
    GUNICORN_KEEPALIVE=75 \
    GUNICORN_MAX_REQUESTS=0

# Fixed numeric ids so file ownership on the host and in volumes is predictable.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
# Source tree (templates/ and static/ included) owned by the non-root user; the
# package is also installed in the venv, /app comes first on sys.path.
COPY --chown=app:app . /app
COPY --chmod=0755 infra/docker/entrypoint.sh /usr/local/bin/entrypoint.sh

USER 10001:10001

# Static files are collected at build time with the embedded local settings
# (SQLite and their public development key: no production secret is involved).
RUN DJANGO_SETTINGS_MODULE=backoffice.settings.local \
    python3 manage.py collectstatic --noinput \
    && find /app -name '__pycache__' -prune -exec rm -rf {} +

EXPOSE 8000

# /healthz does not touch the database: it says "the process serves requests".
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os,sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2).status == 200 else 1)"]

ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["serve"]
