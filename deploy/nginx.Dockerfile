# The proxy of compose.yaml: Debian's nginx with deploy/nginx.conf.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx-light \
    && rm -rf /var/lib/apt/lists/*
COPY nginx.conf /etc/nginx/nginx.conf
EXPOSE 8080
CMD ["nginx", "-c", "/etc/nginx/nginx.conf"]
