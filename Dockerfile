# omniroute: one image for every service; the command picks which one runs.
#   docker build -t omniroute:0.1.0 .
#   docker run -p 8000:8000 omniroute:0.1.0 run          (everything, embedded)
#   docker run omniroute:0.1.0 router                     (one service, with OMNIROUTE_* set)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    OMNIROUTE_HOST=0.0.0.0 OMNIROUTE_PORT=8000 OMNIROUTE_DATA_DIR=/var/lib/omniroute

RUN useradd --system --uid 10001 --home-dir /var/lib/omniroute omniroute \
    && mkdir -p /var/lib/omniroute && chown omniroute /var/lib/omniroute
WORKDIR /app
COPY pyproject.toml README.md ./
COPY omniroute ./omniroute
COPY shared ./shared
COPY services ./services
RUN pip install --no-cache-dir .

USER omniroute
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
ENTRYPOINT ["omniroute"]
CMD ["run"]
