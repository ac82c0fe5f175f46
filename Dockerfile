# medbro: one image for the API and the workers (`medbro api` / `medbro worker`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY adapters ./adapters
COPY schemas ./schemas
# A plain install: the XML schemas travel as package data (gateway/schemas.py finds them).
RUN pip install . \
    && useradd --system --uid 10001 --home /var/lib/medbro medbro \
    && mkdir -p /var/lib/medbro/var/mailbox /var/lib/medbro/esdh \
    && chown -R medbro /var/lib/medbro

USER medbro
EXPOSE 8000
CMD ["medbro", "api", "--host", "0.0.0.0", "--port", "8000"]
