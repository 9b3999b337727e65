# Anisette stand-in for the example app (the real anisette server is a third-party image).
FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY app/__init__.py app/settings.py app/anisette.py ./app/
USER 1000:1000
CMD ["python3", "-m", "app.anisette"]
