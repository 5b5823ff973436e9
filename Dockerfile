# syntax=docker/dockerfile:1
# The bot as a slim, non-root image: docker build -t article-serial-bot .
# docker run image            runs the bot (long polling, or webhook mode when configured)
# docker run image migrate    brings the database schema up to date, then exits

FROM python:3.12.8-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
# The dependencies first, exactly as locked (a layer that survives code changes); every
# one ships a manylinux wheel for 3.12: no compiler needed. Then the bot, adding nothing.
COPY requirements.lock ./
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/pip install --require-virtualenv -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot/ bot/
RUN /opt/venv/bin/pip install --no-deps .

FROM python:3.12.8-slim-bookworm

# OS zone data too, for anything that asks the system rather than the tzdata package.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home bot

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY content/ content/
# A named volume mounted here starts with this owner, so the bot can write its SQLite file.
RUN mkdir data && chown bot:bot data
VOLUME ["/app/data"]

# The installed package lives in site-packages, where its default article path does not exist.
# DATABASE_URL keeps its default, sqlite:///data/bot.db, which is /app/data/bot.db here.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    ARTICLE_PATH=/app/content/article.txt

USER bot
EXPOSE 8080
# Liveness: /readyz also fails while the database is away, no reason to replace the container.
# urlopen raises on any status but 2xx, so the exit code is the verdict.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HTTP_PORT', '8080') + '/healthz', timeout=3)"]

ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
