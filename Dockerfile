FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 BIND=0.0.0.0:8000
WORKDIR /app
RUN useradd --system --uid 10001 --home /app personalizer
COPY pyproject.toml README.md wsgi.py gunicorn.conf.py ./
COPY personalizer ./personalizer
COPY plugins ./plugins
COPY content ./content
RUN pip install --no-cache-dir -e . && chown -R personalizer /app
USER personalizer
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]
