# Anisette stand-in for the example app (the real anisette server is a third-party image), on the local base image.
ARG BASE_IMAGE=staging-rollout/base:local
FROM ${BASE_IMAGE}
WORKDIR /app
COPY app/__init__.py app/settings.py app/anisette.py ./app/
USER 1000:1000
CMD ["python3", "-m", "app.anisette"]
