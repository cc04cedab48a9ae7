# Build a wheel from the repository, then install only the wheel: the image holds the service,
# its built-in plugins and content as an installed package, not the checkout.
FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 BIND=0.0.0.0:8000
WORKDIR /app
RUN useradd --system --uid 10001 --home /app personalizer
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm /tmp/*.whl
COPY gunicorn.conf.py ./
USER personalizer
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["gunicorn", "--config", "gunicorn.conf.py", "personalizer.wsgi:app"]
