# medbro: one image for the API and the workers (`medbro api` / `medbro worker`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY adapters ./adapters
COPY schemas ./schemas
# Editable on purpose: the XML schemas are read from /app/schemas next to the packages
# (gateway/oioxml, gateway/forms, adapters/vans locate them relative to the source tree).
RUN pip install -e . \
    && useradd --system --uid 10001 --home /var/lib/medbro medbro \
    && mkdir -p /var/lib/medbro/var/mailbox \
    && chown -R medbro /var/lib/medbro

USER medbro
EXPOSE 8000
CMD ["medbro", "api", "--host", "0.0.0.0", "--port", "8000"]
