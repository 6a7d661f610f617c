FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 AWS_EC2_METADATA_DISABLED=true \
    S3PORTAL_VAR_DIR=/app/var
WORKDIR /app
COPY pyproject.toml README.md ./
COPY s3portal ./s3portal
COPY accounts ./accounts
COPY audit ./audit
COPY storage ./storage
COPY lifecycle ./lifecycle
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN pip install --no-cache-dir . \
 && DEBUG=true python manage.py collectstatic --noinput -v 0 \
 && useradd --system --home /app s3portal && mkdir -p /app/var && chown -R s3portal /app/var
USER s3portal
EXPOSE 8000
CMD ["gunicorn", "s3portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--forwarded-allow-ips", "*"]
